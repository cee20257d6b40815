-- Daily campaign summary: impressions, clicks, spend and the purchases
-- Amazon attributes to each DSP campaign, per day, over the execution's
-- time window. Synced as the saved workflow wf_daily_campaign_summary by
-- adapters/c/examples/main-job.sh.
--
-- The next line only steers amc-sandbox (simulated durations and the shape
-- of the results); AMC itself ignores SQL comments.
-- sandbox: pending=30s duration=8m publishing=20s parts=3 rows=180
WITH delivery AS (
  SELECT
    campaign_id,
    campaign,
    TRUNC('DAY', impression_dt) AS event_day,
    SUM(impressions) AS impressions,
    SUM(total_cost) / 100000 AS spend
  FROM dsp_impressions
  GROUP BY 1, 2, 3
),
engagement AS (
  SELECT
    campaign_id,
    TRUNC('DAY', click_dt) AS event_day,
    SUM(clicks) AS clicks
  FROM dsp_clicks
  GROUP BY 1, 2
),
conversions AS (
  SELECT
    campaign_id,
    TRUNC('DAY', conversion_event_dt) AS event_day,
    SUM(purchases) AS purchases,
    SUM(product_sales) AS product_sales
  FROM amazon_attributed_events_by_traffic_time
  GROUP BY 1, 2
)
SELECT
  d.event_day,
  d.campaign_id,
  d.campaign,
  d.impressions,
  COALESCE(e.clicks, 0) AS clicks,
  d.spend,
  COALESCE(c.purchases, 0) AS purchases,
  COALESCE(c.product_sales, 0) AS product_sales,
  CASE WHEN d.impressions > 0 THEN COALESCE(e.clicks, 0) / d.impressions ELSE 0 END AS click_through_rate,
  CASE WHEN d.spend > 0 THEN COALESCE(c.product_sales, 0) / d.spend ELSE 0 END AS return_on_ad_spend
FROM delivery d
LEFT JOIN engagement e ON e.campaign_id = d.campaign_id AND e.event_day = d.event_day
LEFT JOIN conversions c ON c.campaign_id = d.campaign_id AND c.event_day = d.event_day
ORDER BY d.event_day, d.campaign_id
