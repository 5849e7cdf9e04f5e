-- Attainment per account × period × priority: what a quarterly service
-- review shows one customer, for quarters and months of creation. Spark SQL
-- spelling of sql/account_attainment.sql: the same text but PERCENTILE for
-- QUANTILE_CONT, which Spark lacks (tests/python/test_spark.py holds the two
-- together token for token; see sql/README.md).
-- attainment = met / (met + breached); pending and excluded are counted but
-- not in the denominator. Percentiles interpolate linearly over the cases
-- that have a response.
SELECT
    'quarter' AS period_type,
    period,
    account_id,
    priority,
    CAST(COUNT(*) AS BIGINT) AS cases,
    CAST(SUM(CASE WHEN outcome = 'met' THEN 1 ELSE 0 END) AS BIGINT) AS met,
    CAST(SUM(CASE WHEN outcome = 'breached' THEN 1 ELSE 0 END) AS BIGINT) AS breached,
    CAST(SUM(CASE WHEN outcome = 'pending' THEN 1 ELSE 0 END) AS BIGINT) AS pending,
    CAST(SUM(CASE WHEN outcome = 'excluded' THEN 1 ELSE 0 END) AS BIGINT) AS excluded,
    CAST(SUM(CASE WHEN outcome = 'met' THEN 1 ELSE 0 END) AS DOUBLE)
        / NULLIF(SUM(CASE WHEN outcome IN ('met', 'breached') THEN 1 ELSE 0 END), 0) AS attainment,
    PERCENTILE(response_business_minutes, 0.5) AS p50_response_business_minutes,
    PERCENTILE(response_business_minutes, 0.9) AS p90_response_business_minutes
FROM case_slt
GROUP BY period, account_id, priority
UNION ALL
SELECT
    'month' AS period_type,
    month AS period,
    account_id,
    priority,
    CAST(COUNT(*) AS BIGINT) AS cases,
    CAST(SUM(CASE WHEN outcome = 'met' THEN 1 ELSE 0 END) AS BIGINT) AS met,
    CAST(SUM(CASE WHEN outcome = 'breached' THEN 1 ELSE 0 END) AS BIGINT) AS breached,
    CAST(SUM(CASE WHEN outcome = 'pending' THEN 1 ELSE 0 END) AS BIGINT) AS pending,
    CAST(SUM(CASE WHEN outcome = 'excluded' THEN 1 ELSE 0 END) AS BIGINT) AS excluded,
    CAST(SUM(CASE WHEN outcome = 'met' THEN 1 ELSE 0 END) AS DOUBLE)
        / NULLIF(SUM(CASE WHEN outcome IN ('met', 'breached') THEN 1 ELSE 0 END), 0) AS attainment,
    PERCENTILE(response_business_minutes, 0.5) AS p50_response_business_minutes,
    PERCENTILE(response_business_minutes, 0.9) AS p90_response_business_minutes
FROM case_slt
GROUP BY month, account_id, priority
ORDER BY period_type, period, account_id, priority
