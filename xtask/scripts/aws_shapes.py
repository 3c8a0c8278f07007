#!/usr/bin/env python3
"""Writes src/collect/aws_shapes.json: the output shapes, wire names and paginators of exactly
the AWS API calls `driftlock collect aws` makes, taken from the service models of the installed
botocore (the library the aws CLI prints its output with; Apache-2.0, like driftlock).

driftlock turns each response into the JSON the aws CLI prints by walking these shapes, the way
botocore's parsers do. Re-run after adding a call:  python3 xtask/scripts/aws_shapes.py
"""
import gzip
import json
import os
import sys

import botocore

DATA = os.path.join(os.path.dirname(botocore.__file__), "data")
CALLS = {
    "ec2": ["DescribeRegions", "DescribeVpcs", "DescribeSubnets", "DescribeSecurityGroups",
            "DescribeInternetGateways", "DescribeRouteTables", "DescribeNetworkAcls",
            "DescribeDhcpOptions", "DescribeInstances"],
    "iam": ["ListRoles", "ListUsers", "ListPolicies"],
    "s3": ["ListBuckets"],
    "sts": ["GetCallerIdentity"],
    "resourcegroupstaggingapi": ["GetResources"],
    "config": ["ListDiscoveredResources", "BatchGetResourceConfig", "SelectAggregateResourceConfig",
               "ListAggregateDiscoveredResources", "BatchGetAggregateResourceConfig"],
}


def load(service, name):
    folder = os.path.join(DATA, service)
    version = sorted(os.listdir(folder))[-1]
    path = os.path.join(folder, version, name)
    if os.path.exists(path + ".gz"):
        with gzip.open(path + ".gz") as f:
            return json.load(f)
    if os.path.exists(path):
        with open(path) as f:
            return json.load(f)
    return {}


def main():
    out = {"botocore": botocore.__version__, "services": {}}
    for service, ops in CALLS.items():
        model = load(service, "service-2.json")
        pages = load(service, "paginators-1.json").get("pagination", {})
        extras = load(service, "paginators-1.sdk-extras.json").get("merge", {}).get("pagination", {})
        for op, more in extras.items():
            if op in pages:
                pages[op].update(more)
        shapes = {}

        def walk(name):
            if name in shapes:
                return
            s = model["shapes"][name]
            t = s["type"]
            spec = {"type": t}
            if t == "structure":
                spec["members"] = []
                for m, ref in s.get("members", {}).items():
                    if ref.get("location") in ("header", "headers", "statusCode"):
                        continue
                    spec["members"].append({"name": m, "shape": ref["shape"],
                                            "wire": ref.get("locationName")})
            elif t == "list":
                spec["member"] = s["member"]["shape"]
                spec["item"] = s["member"].get("locationName")
                spec["flattened"] = bool(s.get("flattened"))
            elif t == "map":
                spec["key"] = s["key"]["shape"]
                spec["value"] = s["value"]["shape"]
                spec["flattened"] = bool(s.get("flattened"))
            elif t == "timestamp" and "timestampFormat" in s:
                spec["format"] = s["timestampFormat"]
            shapes[name] = spec
            for child in [m["shape"] for m in spec.get("members", [])] + \
                    [spec[k] for k in ("member", "key", "value") if k in spec]:
                walk(child)

        entry = {"protocol": model["metadata"]["protocol"],
                 "api_version": model["metadata"]["apiVersion"],
                 "target_prefix": model["metadata"].get("targetPrefix"),
                 "json_version": model["metadata"].get("jsonVersion"),
                 "signing_name": model["metadata"].get("signingName", model["metadata"]["endpointPrefix"]),
                 "endpoint_prefix": model["metadata"]["endpointPrefix"],
                 "operations": {}, "shapes": shapes}
        for op in ops:
            o = model["operations"][op]
            output = o.get("output", {})
            if "shape" in output:
                walk(output["shape"])
            entry["operations"][op] = {
                "http": o["http"],
                "output": output.get("shape"),
                "result_wrapper": output.get("resultWrapper"),
                "paginator": pages.get(op),
            }
        out["services"][service] = entry
    target = os.path.join(os.path.dirname(__file__), "..", "..", "src", "collect", "aws_shapes.json")
    with open(target, "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print(f"wrote {os.path.normpath(target)}", file=sys.stderr)


main()
