#!/usr/bin/env python3
"""Cross-check of `healthplan evaluate --json` against an independent Python implementation of
spec/evaluation.md §1–§4 on random cases that are not in the repo.

    python3 crates/eval/tools/crosscheck.py BINARY [N] [SEED]

Prints the number of cases, the comparisons made and every disagreement; exits 1 on any.
Standard library only (Student t from a table, Φ from statistics.NormalDist)."""
import csv, json, math, os, random, subprocess, sys, tempfile
from statistics import NormalDist

# Two-sided 95 % Student t critical values (standard tables, 9 decimals).
T975 = {1: 12.706204736, 2: 4.302652730, 3: 3.182446305, 4: 2.776445105, 5: 2.570581836,
        6: 2.446911851, 7: 2.364624252, 8: 2.306004135, 9: 2.262157163, 10: 2.228138852}
EPS = 1e-9

def holds(cmp, y, v):
    eq = abs(y - v) <= 1e-9 * max(abs(v), 1.0)
    return {">=": y > v or eq, ">": y > v and not eq, "<=": y < v or eq, "<": y < v and not eq, "=": eq}[cmp]

def make_case(rng, k):
    direction = rng.choice(["higher", "lower"])
    t0 = rng.randint(2015, 2020)
    T = t0 + rng.randint(5, 15)
    as_of = rng.randint(t0 + 1, T)
    b = round(rng.uniform(5, 80), 2)
    kind = rng.choice(["threshold"] * 4 + ["range", "relative_change"])
    sign = 1 if direction == "higher" else -1
    if kind == "threshold":
        cmp = rng.choice([">=", ">"] if direction == "higher" else ["<=", "<"])
        v = round(b + sign * rng.uniform(-3, 20), 2)  # sometimes already met by b
        target = {"year": T, "kind": "threshold", "cmp": cmp, "value": v, "text": f"{cmp}{v}"}
        cond = ("cmp", cmp, v)
    elif kind == "range":
        lo = round(b + sign * rng.uniform(2, 10), 2)
        lo, hi = (lo, lo + 5) if sign > 0 else (lo - 5, lo)
        target = {"year": T, "kind": "range", "value": lo, "value_hi": hi, "text": f"{lo}-{hi}"}
        cond = ("range", lo, hi)
    else:
        pct = round(sign * rng.uniform(5, 30), 1)
        v = b * (1 + pct / 100)
        target = {"year": T, "kind": "relative_change", "value": pct, "relative_to": "baseline", "text": f"{pct}%"}
        cond = ("cmp", "<=" if pct < 0 else ">=", v)
    has_baseline = rng.random() > 0.15
    years = sorted(rng.sample(range(t0 + 1 if has_baseline else t0, as_of + 1), rng.randint(1, min(6, as_of - t0))))
    y, obs = b, []
    drift = sign * rng.uniform(-1.5, 3)
    for yr in years:
        y = round(y + drift + rng.gauss(0, 1.0), 2)
        obs.append((yr, y))
    if not has_baseline and kind == "relative_change":
        has_baseline = True
    ind = {"name": f"指标{k}", "code": f"C{k}", "unit": "分", "direction": direction,
           "baseline": {"value": b, "year": t0, "text": str(b)} if has_baseline else None,
           "targets": [target]}
    return ind, obs, cond, as_of

def expected(ind, obs, cond, as_of):
    T = ind["targets"][0]["year"]
    used = sorted(o for o in obs if o[0] <= as_of)
    if ind["baseline"]:
        # The area's own observation in the baseline year stands for the plan's baseline.
        t0 = ind["baseline"]["year"]
        b = dict(used).get(t0, ind["baseline"]["value"])
    elif used:
        t0, b = used[0]
    if not used:
        return {"status": "no_data"}
    if ind["targets"][0]["kind"] == "relative_change":
        pct = ind["targets"][0]["value"]
        cond = ("cmp", "<=" if pct < 0 else ">=", b * (1 + pct / 100))
    t, y = used[-1]
    if cond[0] == "cmp":
        met = lambda x: holds(cond[1], x, cond[2]); V = cond[2]
    else:
        lo, hi = cond[1], cond[2]
        met = lambda x: holds(">=", x, lo) and holds("<=", x, hi)
        V = lo if b < lo else hi if b > hi else b
    out = {}
    same = abs(V - b) <= 1e-12 * max(abs(V), 1)
    if met(y): out["status"] = "achieved"
    elif met(b): out["status"] = "moving_away"
    elif same or t <= t0: out["status"] = "not_assessable"
    if not same and not met(b) and t > t0:
        p = (y - b) / (V - b); s = (t - t0) / (T - t0); r = p / s
        out.update(p=p, s=s, r=r)
        if "status" not in out:
            out["status"] = ("on_track" if r + EPS >= 0.95 else "moderate" if r + EPS >= 0.6
                             else "insufficient" if r + EPS >= 0 else "moving_away")
        if out["status"] not in ("achieved", "moving_away", "not_assessable") or True:
            if b != 0 and y / b > 0 and V / b > 0:
                ca = (y / b) ** (1 / (t - t0)) - 1; cr = (V / b) ** (1 / (T - t0)) - 1
                ratio = ca / cr; proj = y * (1 + ca) ** (T - t)
            else:
                ratio = ((y - b) / (t - t0)) / ((V - b) / (T - t0)); proj = y + (y - b) / (t - t0) * (T - t)
            out["eurostat_ratio"] = ratio
            cut = lambda x, c, names: names[0] if x + EPS >= c[0] else names[1] if x + EPS >= c[1] else names[2] if x + EPS >= c[2] else names[3]
            pre = {"achieved": "achieved", "moving_away": "moving_away" if met(b) else None}.get(out["status"])
            cats = ["significant_progress", "moderate_progress", "insufficient_progress", "moving_away"]
            out["eurostat"] = pre or cut(ratio, [0.95, 0.6, 0], cats)
            out["unsd2022"] = pre or cut(ratio, [0.95, 0.5, -0.1], cats)
            u = (proj - b) / (V - b)
            out["unsd2023"] = pre or ("on_track" if u + EPS >= 0.95 else "fair_progress" if u + EPS >= 0.1 else "stagnation_or_regression")
            out["sdsn"] = pre or cut(r, [1, 0.5, 0], ["on_track", "moderately_improving", "stagnating", "decreasing"])
    # Forecast: OLS over observations ≤ as-of plus the baseline point.
    pts = dict(used)
    pts.setdefault(t0, b)
    pts = sorted(pts.items())
    if T > t and len(pts) >= 2 and out.get("status") != "not_assessable" or (T > t and len(pts) >= 2 and "p" in out):
        n = len(pts); xm = sum(x for x, _ in pts) / n; ym = sum(v for _, v in pts) / n
        sxx = sum((x - xm) ** 2 for x, _ in pts)
        slope = sum((x - xm) * (v - ym) for x, v in pts) / sxx
        f = ym + slope * (T - xm)
        out["forecast"] = f
        if n >= 3:
            s2 = sum((v - (ym + slope * (x - xm))) ** 2 for x, v in pts) / (n - 2)
            se = math.sqrt(s2 * (1 + 1 / n + (T - xm) ** 2 / sxx))
            q = T975[n - 2]
            out["lower"], out["upper"] = f - q * se, f + q * se
            if se > 0 and cond[0] == "cmp":
                z = (cond[2] - f) / se
                out["probability"] = 1 - NormalDist().cdf(z) if cond[1] in (">=", ">") else NormalDist().cdf(z)
            elif se > 0:
                out["probability"] = NormalDist().cdf((cond[2] - f) / se) - NormalDist().cdf((cond[1] - f) / se)
    return out

def main():
    binary = sys.argv[1]
    n = int(sys.argv[2]) if len(sys.argv) > 2 else 500
    rng = random.Random(int(sys.argv[3]) if len(sys.argv) > 3 else 20240601)
    cases = [make_case(rng, k) for k in range(n)]
    # One plan and one file per as-of year (the CLI takes one --as-of).
    by_year = {}
    for k, c in enumerate(cases):
        by_year.setdefault(c[3], []).append(k)
    got = {}
    with tempfile.TemporaryDirectory() as d:
        plan = {"title": "crosscheck", "area": "A", "indicators": [c[0] for c in cases]}
        with open(os.path.join(d, "plan.json"), "w") as f:
            json.dump(plan, f, ensure_ascii=False)
        for year, ks in by_year.items():
            path = os.path.join(d, f"v{year}.csv")
            with open(path, "w", newline="") as f:
                w = csv.writer(f); w.writerow(["indicator", "area", "year", "value"])
                for k in ks:
                    for yr, v in cases[k][1]:
                        w.writerow([f"C{k}", "A", yr, v])
            out = subprocess.run([binary, "evaluate", "--plan", os.path.join(d, "plan.json"), "--data", path,
                                  "--as-of", str(year), "--json"], capture_output=True, text=True, check=True)
            res = json.loads(out.stdout)["results"]
            for k in ks:
                got[k] = res[k]["targets"][0]
    bad, compared = [], 0
    def cmpf(k, name, want, have, tol=1e-6):
        nonlocal compared
        compared += 1
        if want is None or have is None:
            if want != have: bad.append((k, name, want, have))
        elif isinstance(want, str):
            if want != have: bad.append((k, name, want, have))
        elif abs(want - have) > tol * max(1, abs(want)):
            bad.append((k, name, want, have))
    for k, c in enumerate(cases):
        e, g = expected(*c), got[k]
        cmpf(k, "status", e["status"], g["status"])
        for key in ("p", "s", "r"):
            cmpf(k, key, e.get(key), g[key])
        m = {x["method"]: x for x in g["methods"]}
        for meth in ("eurostat", "unsd2022", "unsd2023", "sdsn"):
            if meth in e:
                cmpf(k, meth, e[meth], m[meth]["category"])
        if "eurostat_ratio" in e:
            cmpf(k, "eurostat_ratio", e["eurostat_ratio"], m["eurostat"]["ratio"])
        f = g["forecast"]
        if "forecast" in e and f is not None:
            cmpf(k, "forecast", e["forecast"], f["value"])
            if "lower" in e:
                cmpf(k, "lower", e["lower"], f["lower"], 1e-4)
                cmpf(k, "upper", e["upper"], f["upper"], 1e-4)
            if "probability" in e:
                cmpf(k, "probability", e["probability"], f["probability"], 1e-4)
    statuses = {}
    for k in got: statuses[got[k]["status"]] = statuses.get(got[k]["status"], 0) + 1
    print(f"cases: {n}, comparisons: {compared}, disagreements: {len(bad)}")
    print("statuses:", dict(sorted(statuses.items())))
    for b in bad[:40]:
        print("  case %d %s: expected %r, engine %r" % b)
    sys.exit(1 if bad else 0)

main()
