"""Python peers for bench/poll_bench.sh: status reads of AMC executions the
way a Python user would write them, against the same sandbox as libamc.

  aiohttp:  one ClientSession, CONNECTIONS tasks reading round-robin over the
            ids (keep-alive, a TCPConnector limited to CONNECTIONS)
  requests: one requests.Session reading the ids one after another
            (amazon-helper's style)

Both send the four headers AMC requires and parse each JSON answer (as a
poller must, to see the status). The access token and the other header
values come from the environment, never from a file or the command line.
Prints {"peer", "reads", "seconds", "cpu_seconds", "failed"} as JSON.
"""

import argparse
import asyncio
import json
import os
import ssl
import time


def headers():
    return {
        "Amazon-Advertising-API-ClientId": os.environ["SANDBOX_CLIENT_ID"],
        "Authorization": "Bearer " + os.environ["SANDBOX_ACCESS_TOKEN"],
        "Amazon-Advertising-API-AdvertiserId": os.environ["SANDBOX_ADVERTISER_ID"],
        "Amazon-Advertising-API-MarketplaceId": os.environ["SANDBOX_MARKETPLACE_ID"],
    }


def status_urls(base, instance, ids):
    return [f"{base}/amc/reporting/{instance}/workflowExecutions/{i}" for i in ids]


async def run_aiohttp(urls, seconds, connections, ca_file):
    import aiohttp

    context = ssl.create_default_context(cafile=ca_file) if ca_file else None
    connector = aiohttp.TCPConnector(limit=connections, ssl=context if context else False)
    reads = failed = 0
    position = 0
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession(connector=connector, headers=headers()) as session:

        async def worker():
            nonlocal reads, failed, position
            while time.monotonic() < deadline:
                url = urls[position % len(urls)]
                position += 1
                async with session.get(url) as reply:
                    body = await reply.json(content_type=None)
                    if reply.status == 200 and "status" in body:
                        reads += 1
                    else:
                        failed += 1

        await asyncio.gather(*(worker() for _ in range(connections)))
    return reads, failed


def run_requests(urls, seconds, ca_file):
    import requests

    session = requests.Session()
    session.headers.update(headers())
    verify = ca_file if ca_file else True
    reads = failed = 0
    position = 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        reply = session.get(urls[position % len(urls)], verify=verify)
        position += 1
        body = reply.json()
        if reply.status_code == 200 and "status" in body:
            reads += 1
        else:
            failed += 1
    return reads, failed


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("peer", choices=["aiohttp", "requests"])
    parser.add_argument("--url", required=True)
    parser.add_argument("--instance", required=True)
    parser.add_argument("--ids", required=True, help="file of execution ids, one a line")
    parser.add_argument("--count", type=int, required=True)
    parser.add_argument("--seconds", type=float, default=5)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--ca-file", default="")
    args = parser.parse_args()
    with open(args.ids) as f:
        ids = [line.strip() for line in f if line.strip()][: args.count]
    urls = status_urls(args.url, args.instance, ids)
    cpu_before, started = time.process_time(), time.monotonic()
    if args.peer == "aiohttp":
        reads, failed = asyncio.run(run_aiohttp(urls, args.seconds, args.connections, args.ca_file))
    else:
        reads, failed = run_requests(urls, args.seconds, args.ca_file)
    elapsed = time.monotonic() - started
    cpu = time.process_time() - cpu_before
    print(json.dumps({"peer": args.peer, "reads": reads, "seconds": elapsed, "cpu_seconds": cpu, "failed": failed}))


if __name__ == "__main__":
    main()
