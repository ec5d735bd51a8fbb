"""The page-weight benchmark: python bench/lighthouse.py [--runs N] [--reports DIR]
[--cpu-slowdown X]; bench/README.md says what it measures and how to read it.

In a temporary folder of its own (DATARANK_VAR_DIR: a SQLite database, collected static files),
it loads the bundled OpenAlex sample (migrate, load_openalex — which evaluates FAIR from the
records —, rescore), serves the site with the production
launcher (`python -m datarank_site.serve`, waitress, DATARANK_PRODUCTION=1, WhiteNoise serving
the collected static files) on a free port of 127.0.0.1, and measures the top paper's page and
its FAIR page:

- Lighthouse 12 from npm, pinned (LIGHTHOUSE below; Lighthouse 13 needs a newer Node than 20),
  run with `npx --yes` against Debian's Chromium (CHROME_PATH, headless), mobile form factor and
  Lighthouse's default simulated throttling, performance category only: the performance score
  and total blocking time of each run, and their medians (goals: performance >= 95, TBT <= 200 ms);
- the JavaScript a page loads before any scrolling, read in Chromium under Playwright from the
  Resource Timing entries of scripts (decoded = uncompressed bytes, transferred = on the wire),
  at a phone's viewport and a desktop's, then again after scrolling to the citation graph
  (goal for the paper page before scrolling: <= 1.3 MB decoded).

Nothing is written outside the temporary folder except npm's own cache (~/.npm) for npx.
"""

import argparse
import csv
import io
import json
import os
import secrets
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
LIGHTHOUSE = "lighthouse@12.8.2"
CHROMIUM = "/usr/bin/chromium"
SAMPLE = [
    *sorted(str(path) for path in (ROOT / "data/openalex/api").glob("*.json")),
    str(ROOT / "data/openalex/snapshot/geoscience-works.jsonl.gz"),
]
# Lighthouse's mobile screen (a Moto G Power) and a laptop's.
VIEWPORTS = {"mobile 412x823": (412, 823), "desktop 1280x800": (1280, 800)}
GOAL_PERFORMANCE, GOAL_TBT_MS, GOAL_JS_BYTES = 95, 200, 1_300_000
# Below this benchmarkIndex Lighthouse warns that the host is slower than its throttling assumes.
SLOW_HOST_INDEX = 1000
ATTEMPTS = 3

# Every script the page has fetched so far, as Resource Timing saw it.
SCRIPTS_JS = """() => performance.getEntriesByType('resource')
    .filter(e => e.initiatorType === 'script' || /\\.m?js(\\?|$)/.test(e.name))
    .map(e => ({name: e.name, decoded: e.decodedBodySize, transferred: e.transferSize}))"""


def progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def server_env(var_dir: Path) -> dict:
    """Production settings for plain http on 127.0.0.1, everything under var_dir
    (bench/settings.py: the site's settings with a static root of the benchmark's own)."""
    env = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    return {
        **env,
        "DATARANK_VAR_DIR": str(var_dir),
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DATARANK_PRODUCTION": "1",
        "SECRET_KEY": secrets.token_urlsafe(50),
        "ALLOWED_HOSTS": "127.0.0.1",
        "SECURE_SSL_REDIRECT": "0",
        "SECURE_HSTS_SECONDS": "0",
        "LOG_LEVEL": "WARNING",
    }


def manage(env: dict, *args: str, check: bool = True) -> str:
    command = [sys.executable, str(ROOT / "manage.py"), *args]
    done = subprocess.run(command, env=env, cwd=ROOT, capture_output=True, text=True)
    if check and done.returncode:
        raise RuntimeError(f"manage.py {' '.join(args)} failed ({done.returncode}):\n{done.stderr[-3000:]}")
    return done.stdout


def prepare(env: dict) -> str:
    """The sample loaded and scored; returns the top paper's OpenAlex id."""
    progress("Loading the sample: migrate, load_openalex, rescore, collectstatic")
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "load_openalex", *SAMPLE, "--corpus", "data")
    manage(env, "rescore")
    rows = list(csv.DictReader(io.StringIO(manage(env, "scores", "--format", "csv"))))
    if not rows:
        raise RuntimeError("the sample scored no paper")
    top = rows[0]["openalex_id"]
    # load_openalex has evaluated FAIR from the records already: the FAIR page has its checks.
    manage(env, "collectstatic", "--noinput", "-v0")
    return top


@contextmanager
def serving(env: dict) -> Iterator[str]:
    """The production launcher on a free port of 127.0.0.1; yields its base URL."""
    import requests

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    base_url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        server = subprocess.Popen(
            [sys.executable, "-m", "datarank_site.serve"],
            env={**env, "HOST": "127.0.0.1", "PORT": str(port)},
            cwd=ROOT,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            deadline = time.monotonic() + 60
            while True:
                if server.poll() is not None or time.monotonic() > deadline:
                    log.seek(0)
                    raise RuntimeError(f"the server did not start:\n{log.read().decode(errors='replace')[-3000:]}")
                try:
                    if requests.get(f"{base_url}/robots.txt", timeout=5).status_code == 200:
                        break
                except requests.ConnectionError:
                    pass
                time.sleep(0.2)
            yield base_url
        finally:
            server.terminate()
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()


@dataclass(frozen=True)
class LighthouseRun:
    performance: float
    tbt_ms: float
    lcp_ms: float
    script_bytes: int
    benchmark_index: float
    long_tasks: list[tuple[str, float]]
    warnings: list[str]


def calibrated_slowdown(benchmark_index: float) -> float:
    """The CPU slowdown Lighthouse's docs (docs/throttling.md, "CPU throttling", and the calculator
    they link) suggest for a host of this benchmarkIndex; Lighthouse's mobile default, 4, assumes
    a fast desktop (about 1,500)."""
    if benchmark_index >= 1300:
        return 3 + (benchmark_index - 1300) / 233
    if benchmark_index >= 800:
        return 2 + (benchmark_index - 800) / 500
    return 1 + max(benchmark_index - 150, 0) / 650


def lighthouse(url: str, report: Path, *, cpu_slowdown: float) -> LighthouseRun:
    command = [
        "npx", "--yes", LIGHTHOUSE, url,
        "--output=json", f"--output-path={report}", "--only-categories=performance",
        "--form-factor=mobile", f"--throttling.cpuSlowdownMultiplier={cpu_slowdown:g}",
        "--chrome-flags=--headless=new --no-sandbox", "--disable-full-page-screenshot", "--quiet",
    ]  # fmt: skip
    env = {**os.environ, "CHROME_PATH": CHROMIUM}
    # Lighthouse now and then fails to record a trace (NO_NAVSTART, NO_FCP on a busy host): try again.
    for attempt in range(1, ATTEMPTS + 1):
        report.unlink(missing_ok=True)
        done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=600)
        result = json.loads(report.read_text()) if report.exists() else None
        if not done.returncode and result and not result.get("runtimeError"):
            break
        error = (result or {}).get("runtimeError") or done.stderr[-3000:]
        progress(f"  Lighthouse failed on {url} (attempt {attempt} of {ATTEMPTS}): {error}")
    else:
        raise RuntimeError(f"Lighthouse failed {ATTEMPTS} times on {url}")
    audits = result["audits"]
    scripts = [item for item in audits["network-requests"]["details"]["items"] if item.get("resourceType") == "Script"]
    return LighthouseRun(
        performance=round(result["categories"]["performance"]["score"] * 100),
        tbt_ms=audits["total-blocking-time"]["numericValue"],
        lcp_ms=audits["largest-contentful-paint"]["numericValue"],
        script_bytes=sum(item.get("resourceSize", 0) for item in scripts),
        benchmark_index=result["environment"]["benchmarkIndex"],
        long_tasks=[
            (item["url"].rsplit("/", 1)[-1] or "(the page)", item["duration"])
            for item in audits["long-tasks"]["details"]["items"]
        ],
        warnings=result.get("runWarnings", []),
    )


@dataclass(frozen=True)
class Scripts:
    viewport: str
    before: list[dict]
    plotly_before: bool
    after: list[dict] | None

    @property
    def decoded_before(self) -> int:
        return sum(item["decoded"] for item in self.before)

    def lines(self) -> list[str]:
        plotly = "defined" if self.plotly_before else "undefined"
        lines = [f"  {self.viewport}, before scrolling: {summary(self.before)}; window.Plotly {plotly}"]
        lines += [f"      {item['decoded']:>10,} B  {item['name'].split('/static/', 1)[-1]}" for item in self.before]
        if self.after is not None:
            lines.append(f"  {self.viewport}, after scrolling to the graph: {summary(self.after)}")
        return lines


def scripts_loaded(url: str) -> list[Scripts]:
    """The scripts a page loads before any scrolling, per viewport, and after scrolling to the
    citation graph (when the page has one)."""
    from playwright.sync_api import sync_playwright

    measured = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        try:
            for label, (width, height) in VIEWPORTS.items():
                context = browser.new_context(viewport={"width": width, "height": height})
                tab = context.new_page()
                tab.goto(url, wait_until="load")
                tab.wait_for_load_state("networkidle")
                tab.wait_for_timeout(1000)
                before = tab.evaluate(SCRIPTS_JS)
                plotly = tab.evaluate("() => typeof window.Plotly !== 'undefined'")
                after = None
                if tab.locator("#citation-graph").count():
                    tab.locator("#citation-graph").scroll_into_view_if_needed()
                    tab.wait_for_function("() => document.getElementById('citation-graph').dataset.selected === ''")
                    after = tab.evaluate(SCRIPTS_JS)
                measured.append(Scripts(label, before, plotly, after))
                context.close()
        finally:
            browser.close()
    return measured


def summary(entries: list[dict]) -> str:
    decoded = sum(item["decoded"] for item in entries)
    transferred = sum(item["transferred"] for item in entries)
    return f"{len(entries)} scripts, {decoded:,} B decoded, {transferred:,} B transferred"


def measure_page(name: str, url: str, *, runs: int, reports: Path, slug: str, cpu_slowdown: float) -> list[str]:
    """Lighthouse `runs` times, then the scripts loaded; prints the figures, returns the goals missed."""
    progress(f"Lighthouse on the {name} ({url})")
    results = [
        lighthouse(url, reports / f"{slug}-{number}.json", cpu_slowdown=cpu_slowdown) for number in range(1, runs + 1)
    ]
    performance = statistics.median(run.performance for run in results)
    tbt = statistics.median(run.tbt_ms for run in results)
    print(f"\n{name} {urlsplit(url).path}")
    for number, run in enumerate(results, 1):
        print(
            f"  run {number}: performance {run.performance:.0f}, TBT {run.tbt_ms:.0f} ms, LCP {run.lcp_ms:.0f} ms, "
            f"scripts {run.script_bytes:,} B, benchmarkIndex {run.benchmark_index:.0f}"
        )
        tasks = ", ".join(f"{source} {duration:.0f} ms" for source, duration in run.long_tasks[:4])
        print(f"         longest tasks (simulated): {tasks or 'none'}")
    print(f"  median: performance {performance:.0f}, total blocking time {tbt:.0f} ms")
    for warning in sorted({warning for run in results for warning in run.warnings}):
        print(f"  Lighthouse warns: {' '.join(warning.split())}")
    host_index = statistics.median(run.benchmark_index for run in results)
    if host_index < SLOW_HOST_INDEX:
        print(
            f"  (this host's benchmarkIndex, {host_index:.0f}, is below the {SLOW_HOST_INDEX:,} Lighthouse expects: "
            f"its docs suggest --cpu-slowdown {calibrated_slowdown(host_index):.1f} here)"
        )
    missed = []
    if performance < GOAL_PERFORMANCE or tbt > GOAL_TBT_MS:
        missed.append(
            f"{name}: performance {performance:.0f} (goal >= {GOAL_PERFORMANCE}), "
            f"TBT {tbt:.0f} ms (goal <= {GOAL_TBT_MS} ms)"
        )

    progress(f"Scripts loaded by the {name}")
    measured = scripts_loaded(url)
    for scripts in measured:
        print("\n".join(scripts.lines()))
    if slug == "paper":
        decoded = max(scripts.decoded_before for scripts in measured)
        print(f"  JavaScript before scrolling (the larger of the viewports): {decoded:,} B decoded")
        if decoded > GOAL_JS_BYTES:
            missed.append(f"paper page: {decoded:,} B of JavaScript before scrolling (goal <= {GOAL_JS_BYTES:,})")
    return missed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3, help="Lighthouse runs per page (default 3); medians reported")
    parser.add_argument("--reports", type=Path, metavar="DIR", help="keep Lighthouse's JSON reports in DIR")
    parser.add_argument(
        "--cpu-slowdown",
        type=float,
        default=4,
        metavar="X",
        help="Lighthouse's simulated CPU slowdown (default 4, its mobile preset, which the goals are about)",
    )
    options = parser.parse_args(argv)

    missed = []
    with tempfile.TemporaryDirectory(prefix="datarank-bench-lighthouse-") as folder:
        var_dir = Path(folder)
        reports = options.reports or var_dir
        reports.mkdir(parents=True, exist_ok=True)
        env = server_env(var_dir)
        top = prepare(env)
        with serving(env) as base_url:
            print(
                f"Lighthouse: {LIGHTHOUSE}, mobile, simulated throttling (CPU slowdown {options.cpu_slowdown:g}x); "
                f"Chromium {CHROMIUM}; {options.runs} run(s) per page"
            )
            print(f"Server: python -m datarank_site.serve (waitress, production settings) at {base_url}")
            print(f"Top paper: {top}")
            for name, slug, path in (
                ("paper page", "paper", f"/papers/{top}/"),
                ("FAIR page", "fair", f"/papers/{top}/fair/"),
            ):
                missed += measure_page(
                    name,
                    base_url + path,
                    runs=options.runs,
                    reports=reports,
                    slug=slug,
                    cpu_slowdown=options.cpu_slowdown,
                )
    if missed:
        print("\nGoals missed:\n  " + "\n  ".join(missed))
        return 1
    print("\nEvery goal met.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
