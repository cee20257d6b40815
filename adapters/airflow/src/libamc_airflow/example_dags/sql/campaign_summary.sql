-- Daily campaign summary: impressions, clicks and spend per campaign.
-- (The sandbox markers below set how the bundled amc-sandbox plays the run;
-- real AMC ignores them as comments.)
-- sandbox: duration=1m parts=2 rows=40
SELECT
  campaign_id,
  CAST(impression_dt AS DATE) AS event_date,
  SUM(impressions) AS impressions,
  SUM(clicks) AS clicks,
  SUM(total_cost) AS spend
FROM dsp_impressions
GROUP BY 1, 2
