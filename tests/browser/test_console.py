"""The operator console in a real browser (Chromium through Playwright),
against a running server with a running Twin fleet.

Environment: CONSOLE_BASE_URL (e.g. http://127.0.0.1:3000), ADMIN_CLIENT_ID,
ADMIN_CLIENT_SECRET, SCREENSHOT_DIR, and optionally CHROMIUM (the browser
binary, /usr/bin/chromium by default). scripts/console-test sets them all.
"""

import calendar
import csv
import io
import json
import os
import re
import time
import urllib.parse
import urllib.request
import uuid
from pathlib import Path

import pytest

playwright_api = pytest.importorskip("playwright.sync_api")
expect = playwright_api.expect

BASE = os.environ.get("CONSOLE_BASE_URL", "").rstrip("/")
CLIENT_ID = os.environ.get("ADMIN_CLIENT_ID", "")
CLIENT_SECRET = os.environ.get("ADMIN_CLIENT_SECRET", "")
SHOTS = Path(os.environ.get("SCREENSHOT_DIR", "target/console-screenshots"))
CHROMIUM = os.environ.get("CHROMIUM", "/usr/bin/chromium")
ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]
TIME_ZONE = "Europe/Berlin"  # not the server's UTC: times must follow the browser
CSV_HEADER = ("record_id,device_id,serial_number,site_id,connector_id,start_time,end_time,"
              "energy_kwh,max_power_kw,cost,currency,stop_reason")

pytestmark = pytest.mark.skipif(
    not (BASE and CLIENT_ID and CLIENT_SECRET),
    reason="needs CONSOLE_BASE_URL, ADMIN_CLIENT_ID and ADMIN_CLIENT_SECRET (scripts/console-test sets them)",
)


# ---- the API, directly, to choose test subjects and wait for data ----

def _call(path, token=None, body=None, method=None):
    req = urllib.request.Request(BASE + path, method=method or ("POST" if body is not None else "GET"))
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    data = json.dumps(body).encode() if body is not None else None
    with urllib.request.urlopen(req, data=data, timeout=30) as res:
        return json.load(res)


@pytest.fixture(scope="module")
def token():
    answer = _call("/v1/oauth/token", body={
        "grant_type": "client_credentials", "client_id": CLIENT_ID, "client_secret": CLIENT_SECRET})
    return answer["access_token"]


def api(token, path, **query):
    q = urllib.parse.urlencode({k: v for k, v in query.items() if v is not None})
    return _call(f"{path}?{q}" if q else path, token)["data"]


def wait_for(what, check, timeout=120, every=2):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            pytest.fail(f"timed out after {timeout} s waiting for {what}")
        time.sleep(every)


def iso(epoch_seconds):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_seconds))


def idle_chargers(token):
    """Online chargers whose connector 1 is idle or has not reported yet."""
    devices = api(token, "/v1/devices", status="online", size=100)["items"]
    free = []
    for d in devices:
        c1 = next((c for c in d["connectors"] if c["connector_id"] == 1), None)
        if c1 is None or c1["status"] == "idle":
            free.append(d)
    return free


# ---- the browser ----

@pytest.fixture(scope="module")
def browser():
    with playwright_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture()
def page(browser):
    """A fresh tab (so a fresh sessionStorage) that fails the test on any
    JavaScript error. Failed requests the console handles (501, 404) are
    logged by the browser as console errors too, so only page errors and
    errors that are not about a resource count."""
    context = browser.new_context(viewport={"width": 1280, "height": 800}, timezone_id=TIME_ZONE,
                                  locale="en-GB", accept_downloads=True)
    tab = context.new_page()
    problems = []
    tab.on("pageerror", lambda e: problems.append(f"page error: {e}"))
    tab.on("console", lambda m: problems.append(f"console: {m.text}")
           if m.type == "error" and "Failed to load resource" not in m.text else None)
    tab.set_default_timeout(15000)
    yield tab
    context.close()
    assert not problems, problems


def shot(tab, name, full_page=True):
    SHOTS.mkdir(parents=True, exist_ok=True)
    tab.wait_for_timeout(300)  # let the last frame paint
    tab.screenshot(path=str(SHOTS / f"{name}.png"), full_page=full_page)


def sign_in(tab, route="", client_id=CLIENT_ID, client_secret=CLIENT_SECRET):
    tab.goto(f"{BASE}/console/{route}")
    tab.get_by_label("Client ID").fill(client_id)
    tab.get_by_label("Client secret").fill(client_secret)
    tab.get_by_role("button", name="Sign in").click()
    expect(tab.get_by_role("button", name="Sign out")).to_be_visible()


# ---- the checks ----

def test_a_wrong_secret_is_refused_with_the_apis_message(page):
    page.goto(f"{BASE}/console/")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    shot(page, "01-sign-in")
    page.get_by_label("Client ID").fill(CLIENT_ID)
    page.get_by_label("Client secret").fill("not-the-secret")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("wrong client credentials")
    expect(page.get_by_role("button", name="Sign out")).to_be_hidden()


def test_sign_in_shows_the_twin_fleet(page, token):
    sign_in(page)
    expect(page.get_by_role("heading", name="Fleet overview")).to_be_visible()
    total = api(token, "/v1/devices", size=1)["total"]
    assert total >= 6
    expect(page.locator(".stats[data-devices]")).to_have_attribute("data-devices", str(total))
    expect(page.locator("footer")).to_contain_text(TIME_ZONE)
    token_kept = page.evaluate("() => Object.keys(sessionStorage).some(k => k.includes('session'))")
    assert token_kept, "the token should be kept in sessionStorage"
    assert page.evaluate("() => localStorage.length") == 0, "nothing may outlive the tab"

    page.get_by_role("link", name="Devices", exact=True).click()
    expect(page.get_by_role("heading", name="Devices")).to_be_visible()
    for d in api(token, "/v1/devices", size=100)["items"]:
        expect(page.get_by_role("link", name=d["sn"], exact=True)).to_be_visible()
    shot(page, "03-devices")

    page.get_by_role("link", name="Sites", exact=True).click()
    site = api(token, "/v1/sites", size=1)["items"][0]
    page.get_by_role("link", name=site["name"], exact=True).click()
    expect(page.get_by_role("heading", name=site["name"])).to_be_visible()
    expect(page.get_by_text("Devices and live connectors")).to_be_visible()
    expect(page.locator("#energy-chart canvas")).to_have_count(1)
    # A flexibility cap at the site's own capacity, for a minute: harmless to the fleet.
    page.get_by_role("button", name="Set a cap…").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Cap (kW)").fill(str(site["power_capacity"]))
    dialog.get_by_label("For (minutes)").fill("1")
    dialog.get_by_role("button", name="Apply cap").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#status")).to_contain_text("applied to")
    expect(page.get_by_role("heading", name=re.compile("^Cap of"))).to_be_visible()
    shot(page, "04-site")


def test_the_energy_chart_draws_the_sites_points(page, token):
    sites = api(token, "/v1/sites", size=100)["items"]

    def site_with_energy():
        for s in sites:
            hour = int(time.time()) // 3600 * 3600
            e = api(token, "/v1/aggregated/energy", granularity="hour", site_id=s["site_id"],
                    **{"from": iso(hour - 86400), "to": iso(hour + 3600)})
            if e["total"]["charge_energy"] > 0:
                return s
        return None

    site = wait_for("energy in a site", site_with_energy, timeout=180)
    sign_in(page)
    page.get_by_label("Site", exact=True).select_option(site["site_id"])
    chart = page.locator("#energy-chart")
    expect(chart.locator("canvas")).to_have_count(1)
    expect(chart).to_have_attribute("data-points", "168")
    page.wait_for_function(
        "() => Number(document.querySelector('#energy-chart').dataset.nonzero) > 0", timeout=15000)
    assert "kWh charged" in chart.get_attribute("aria-label")
    shot(page, "02-overview", full_page=False)  # 1280x800, for the docs


def test_a_remote_start_reaches_completed(page, token):
    # The Twin rejects a start when its own session began in the meantime,
    # and the API refuses one that does not fit the site's capacity: either
    # way, try the next idle charger.
    candidates = wait_for("an online charger with an idle connector", lambda: idle_chargers(token))
    sign_in(page)
    refusals = []
    for device in candidates[:4]:
        page.goto(f"{BASE}/console/#/devices/{device['device_id']}")
        expect(page.get_by_role("heading", name=device["sn"])).to_be_visible()
        page.locator('[data-connector="1"] [data-action="start"]').click()
        dialog = page.get_by_role("dialog")
        expect(dialog).to_contain_text("Start charging on connector 1?")
        dialog.get_by_label("Charge power (kW)").fill("7")
        dialog.get_by_role("button", name="Start charging").click()
        page.wait_for_function("() => !document.querySelector('#dialog').open"
                               " || document.querySelector('#dialog [role=alert]')")
        if dialog.get_by_role("alert").count():
            refusals.append(dialog.get_by_role("alert").inner_text())
            dialog.get_by_role("button", name="Cancel").click()
            continue
        expect(page.locator("#status")).to_contain_text("Command queued for connector 1")
        # The tab remembers the commands it sent, newest first.
        command_id = page.evaluate(
            "(id) => JSON.parse(sessionStorage.getItem('chargenet.console.commands.' + id))[0]", device["device_id"])
        row = page.locator(f'#commands tbody tr[data-command-id="{command_id}"]')
        expect(row).to_contain_text("Start charging")
        expect(row).to_have_attribute("data-status", re.compile("completed|failed|rejected|expired"), timeout=60000)
        if row.get_attribute("data-status") == "completed":
            break
    else:
        pytest.fail(f"no start completed; refusals: {refusals}")
    lifecycle = row.locator("ol.lifecycle li")
    expect(lifecycle).to_have_count(4)
    for status in ["queued", "delivered", "accepted", "completed"]:
        expect(row.locator("ol.lifecycle")).to_contain_text(status)
    # The live connector follows: the charger reports charging, then power.
    expect(page.locator("table").first).to_contain_text("charging", timeout=20000)
    page.wait_for_function(
        "() => parseFloat(document.querySelector('td[data-label=\"Power\"]')?.textContent) > 0", timeout=20000)
    shot(page, "05-device", full_page=False)  # 1280x800, for the docs


def test_a_refused_command_shows_the_apis_message(page, token):
    ac = next(d for d in api(token, "/v1/devices", status="online", size=100)["items"] if d["model"] == "TP-AC22")
    sign_in(page, f"#/devices/{ac['device_id']}")
    expect(page.get_by_role("heading", name=ac["sn"])).to_be_visible()
    # A model without V2G offers no discharge at all.
    expect(page.locator('[data-connector="1"] [data-action="discharge"]')).to_have_count(0)
    page.locator('[data-connector="1"] [data-action="start"]').click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Charge power (kW)").fill("5000")
    dialog.get_by_role("button", name="Start charging").click()
    alert = dialog.get_by_role("alert")
    expect(alert).to_contain_text("charge_power")
    expect(alert).to_contain_text("at most 22 kW")
    expect(dialog).to_be_visible()  # kept open to correct the value
    shot(page, "06-refused-command")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()


def test_an_ocpp_device_shows_its_charge_point_and_rotates_its_password(page, token):
    cpid = f"BROWSER-{int(time.time() * 1000)}"
    created = _call("/v1/ocpp/charge-points", token, {"charge_point_id": cpid})["data"]
    sign_in(page, f"#/devices/{created['device_id']}")
    panel = page.get_by_role("region", name="OCPP charge point")
    expect(panel).to_contain_text("disconnected")
    expect(panel).to_contain_text(f"{created['url']}/{cpid}")
    shot(page, "07-ocpp-charge-point")
    panel.get_by_role("button", name="Rotate password…").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_role("button", name="Rotate password").click()
    expect(dialog).to_be_hidden()
    toast = page.locator("#status")
    expect(toast).to_contain_text(f"New password for {cpid}")
    shown = re.search(r"[0-9a-f]{40}", toast.text_content()).group(0)
    assert shown != created["password"]


def test_driver_tokens_are_added_blocked_and_unblocked(page, token):
    tag = f"CARD{int(time.time() * 1000) % 10**9}"
    sign_in(page, "#/tokens")
    expect(page.get_by_role("heading", name="Driver tokens")).to_be_visible()
    page.get_by_role("button", name="Add token…").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Token").fill(tag.lower())
    dialog.get_by_label("Label").fill("Night shift van")
    dialog.get_by_role("button", name="Add token").click()
    expect(dialog).to_be_hidden()
    row = page.locator(f'[data-token="{tag.lower()}"]')
    expect(row).to_be_visible()
    row.get_by_role("button", name=f"Block {tag.lower()}").click()
    expect(row.get_by_role("button", name=f"Unblock {tag.lower()}")).to_be_visible()
    assert _call(f"/v1/id-tags/{tag}", token)["data"]["status"] == "blocked"
    shot(page, "08-driver-tokens")
    row.get_by_role("button", name=f"Unblock {tag.lower()}").click()
    expect(row.get_by_role("button", name=f"Block {tag.lower()}")).to_be_visible()
    assert _call(f"/v1/id-tags/{tag}", token)["data"]["status"] == "accepted"
    row.get_by_role("button", name=f"Sessions of {tag.lower()}").click()
    expect(page.locator("#token-sessions")).to_contain_text(f"No sessions with {tag.lower()} yet.")


def test_records_page_and_export_a_csv(page, token):
    total = wait_for("at least 6 charging records",
                     lambda: (lambda t: t if t >= 6 else None)(api(token, "/v1/charging-records", size=1)["total"]),
                     timeout=300, every=5)
    sign_in(page, "#/records")
    expect(page.get_by_role("heading", name="Charging records")).to_be_visible()
    page.get_by_label("Page size").select_option("5")
    pager = page.locator(".pager span")
    expect(pager).to_contain_text("Page 1 of")
    expect(page.locator("table tbody tr")).to_have_count(5)
    first_page = page.locator("table tbody tr").first.inner_text()
    page.get_by_role("button", name="Next →").click()
    expect(pager).to_contain_text("Page 2 of")
    assert "page=2" in page.url and "size=5" in page.url, "the view is kept in the address"
    assert page.locator("table tbody tr").first.inner_text() != first_page
    shot(page, "07-records")

    with page.expect_download() as download:
        page.get_by_role("button", name="Export CSV").click()
    path = download.value.path()
    assert download.value.suggested_filename.startswith("charging-records-")
    text = Path(path).read_text()
    lines = text.splitlines()
    assert lines[0] == CSV_HEADER
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) >= total
    assert all(r["record_id"] and r["start_time"].endswith("Z") for r in rows)
    expect(page.locator("#status")).to_contain_text("Exported")


@pytest.mark.parametrize("route, heading, parts", [
    ("#/firmware", "Firmware", ["#campaigns"]),
    ("#/profiles", "Configuration profiles", ["#profiles"]),
    ("#/intelligence", "Intelligence", ["#briefing", "#health", "#anomalies", "#forecast"]),
])
def test_planned_pages_show_data_or_say_not_available(page, route, heading, parts):
    sign_in(page, route)
    expect(page.get_by_role("heading", name=heading, exact=True)).to_be_visible()
    for part in parts:
        box = page.locator(part)
        # Either the data (a table, a chart or text) or the notice; never an error.
        page.wait_for_function(
            "(sel) => { const el = document.querySelector(sel);"
            " return el && !el.querySelector('[role=status]') && el.children.length > 0; }",
            arg=part, timeout=15000)
        expect(box.locator(".notice-error")).to_have_count(0)
        if box.locator("[data-unavailable]").count():
            expect(box).to_contain_text("Not available on this deployment yet")
    if heading == "Firmware":
        expect(page.locator("meter").first).to_be_visible()
    if heading == "Intelligence":
        page.get_by_label("Question").fill("How much energy did we deliver yesterday?")
        page.get_by_role("button", name="Ask", exact=True).click()
        answer = page.locator("#ask")
        page.wait_for_function("() => !document.querySelector('#ask [role=status]')"
                               " && document.querySelector('#ask .result, #ask .notice')")
        expect(answer.locator(".notice-error")).to_have_count(0)
    shot(page, f"08-{route.strip('#/')}")


def test_tablet_layout_keeps_everything_on_screen(page, token):
    page.set_viewport_size({"width": 820, "height": 1180})
    device = api(token, "/v1/devices", size=1)["items"][0]
    sign_in(page, f"#/devices/{device['device_id']}")
    expect(page.get_by_role("heading", name=device["sn"])).to_be_visible()
    overflow = page.evaluate("() => document.documentElement.scrollWidth - document.documentElement.clientWidth")
    assert overflow <= 0, f"the page scrolls sideways by {overflow}px"
    nav = page.get_by_role("navigation", name="Main").bounding_box()
    assert nav["width"] > 700, "on a tablet the menu runs across the top"
    shot(page, "09-tablet-device")


def test_an_invalid_token_signs_out_with_a_message(page):
    sign_in(page)
    page.evaluate("""() => {
        const key = Object.keys(sessionStorage).find(k => k.endsWith('session'));
        const s = JSON.parse(sessionStorage.getItem(key));
        s.token = 'f'.repeat(64);
        sessionStorage.setItem(key, JSON.stringify(s));
    }""")
    # The overview's own polling may meet the bad token before this does, and
    # sign out first; either way the page below must say why.
    page.evaluate("() => { location.hash = '#/sites'; }")
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.locator(".signin")).to_contain_text("Sign in again")


def test_sign_out_forgets_the_token(page):
    sign_in(page, "#/sites")
    expect(page.get_by_role("heading", name="Sites")).to_be_visible()
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    assert page.evaluate("() => sessionStorage.length") == 0
    page.goto(f"{BASE}/console/#/devices")
    page.reload()
    expect(page.get_by_role("heading", name="Sign in")).to_be_visible()
    expect(page.get_by_role("navigation", name="Main")).to_be_hidden()


# ---- routes not built yet: the pages must draw the contract's shapes ----

def _ok(data):
    return json.dumps({"code": 0, "message": "success", "data": data})


def _contract_answers(devices, sites):
    """Answers shaped as contract sections 8 and 10, for the fleet at hand."""
    now = int(time.time()) // 3600 * 3600
    d0, s0 = devices[0], sites[0]
    series = [{"timestamp": iso(now + 3600 * (i + 1)), "value": 4 + 3 * (i % 6),
               "lower": 2 + 2 * (i % 6), "upper": 7 + 4 * (i % 6)} for i in range(24)]
    return {
        "/v1/intelligence/daily-briefing": {
            "date": time.strftime("%Y-%m-%d", time.gmtime(now - 86400)), "operator_id": "acme-charging-uk",
            "headline": "412.5 kWh delivered in 38 sessions, 6% more than the day before",
            "summary": "Uptime was 99.2 % with 1 fault.",
            "kpis": {"energy_kwh": 412.5, "discharge_kwh": 3.1, "sessions": 38,
                     "revenue": [{"currency": "GBP", "amount": 144.38}], "uptime_pct": 99.2, "faults": 1,
                     "commands": {"sent": 5, "completed": 4, "failed": 1}},
            "compared_to": {"previous_day": {"energy_kwh_change_pct": 6.0, "sessions_change": 2},
                            "same_day_last_week": {"energy_kwh_change_pct": -1.5, "sessions_change": 0}},
            "top_anomalies": [], "least_healthy": [{"device_id": d0["device_id"], "sn": d0["sn"], "score": 71}],
            "forecast_next_day": {"energy_kwh": 398.0, "lower": 350.0, "upper": 450.0},
            "actions": [f"Check {d0['sn']}: one fault yesterday."],
        },
        "/v1/intelligence/health-scores": {"items": [{
            "device_id": d0["device_id"], "sn": d0["sn"], "site_id": s0["site_id"], "model": d0["model"],
            "score": 71, "grade": "C", "window": {"from": iso(now - 7 * 86400), "to": iso(now)},
            "components": {"uptime": {"score": 98, "weight": 40, "value": 0.98},
                           "faults": {"score": 80, "weight": 25, "value": 1}},
            "reasons": ["1 fault event in the window."], "computed_at": iso(now)}],
            "total": 1, "page": 1, "size": 20},
        "/v1/intelligence/anomalies": {"items": [{
            "anomaly_id": "a1", "kind": "power_over_rating", "severity": "critical", "device_id": d0["device_id"],
            "connector_id": 1, "site_id": s0["site_id"], "detected_at": iso(now), "window": {"from": iso(now), "to": iso(now)},
            "observed": 24.1, "expected": 22.0, "explanation": "A sample reported 24.1 kW, above 1.05 x the 22 kW rating."}],
            "total": 1, "page": 1, "size": 20},
        "/v1/intelligence/forecasts/energy": {
            "subject": {"site_id": s0["site_id"]}, "unit": "kWh", "granularity": "hour", "status": "ok",
            "method": "hour-of-week profile with exponential smoothing",
            "trained_on": {"from": iso(now - 28 * 86400), "to": iso(now), "points": 672},
            "backtest": {"horizon_hours": 24, "mae": 1.2, "smape": 0.18, "baseline": "seasonal_naive_168h",
                         "baseline_mae": 1.9, "skill": 0.37},
            "series": series},
        "/v1/intelligence/ask": {
            "answer": "Yesterday the fleet delivered 412.5 kWh.", "intent": "energy",
            "parameters": {"period": "yesterday"}, "data": {"energy_kwh": 412.5},
            "sources": ["GET /v1/aggregated/energy?granularity=day"], "follow_ups": ["And the day before?"]},
        "/v1/configuration/profiles": {"items": [{
            "profile_id": "p1", "name": "Depot defaults", "model": d0["model"], "version": 3,
            "settings": {"heartbeat_interval_s": 30, "meter_interval_s": 60, "max_current_a": 32,
                         "offline_charging": True, "free_vend": False},
            "created_at": iso(now - 86400), "updated_at": iso(now), "devices": {"applied": 2, "pending": 1, "drifted": 0}}],
            "total": 1, "page": 1, "size": 100},
        "/v1/firmware/campaigns": {"items": [{
            "campaign_id": "c1", "model": d0["model"], "target_version": "260122.1606", "status": "running", "wave": 1,
            "counts": {"eligible": 5, "pending": 4, "updating": 1, "installed": 0, "failed": 0},
            "created_at": iso(now)}], "total": 1, "page": 1, "size": 20},
    }


def test_planned_pages_draw_the_contracts_answers(page, token):
    devices = api(token, "/v1/devices", size=100)["items"]
    sites = api(token, "/v1/sites", size=100)["items"]
    answers = _contract_answers(devices, sites)

    def answer(route):
        path = urllib.parse.urlparse(route.request.url).path
        route.fulfill(status=200, content_type="application/json", body=_ok(answers[path]))

    for path in answers:
        page.route(re.compile(re.escape(path) + r"(\?.*)?$"), answer)

    sign_in(page, "#/intelligence")
    expect(page.locator("#briefing")).to_contain_text("412.5 kWh delivered in 38 sessions")
    expect(page.locator("#briefing")).to_contain_text("Suggested actions")
    expect(page.locator("#health table")).to_contain_text(devices[0]["sn"])
    expect(page.locator("#health table")).to_contain_text("C")
    expect(page.locator("#anomalies table")).to_contain_text("power over rating")
    chart = page.locator("#forecast-chart")
    expect(chart.locator("canvas")).to_have_count(1)
    points = int(chart.get_attribute("data-points"))
    assert points >= 24, points
    assert int(chart.get_attribute("data-nonzero")) > 0
    expect(page.locator("#forecast")).to_contain_text("skill 0.37")
    page.get_by_label("Question").fill("How much energy yesterday?")
    page.get_by_role("button", name="Ask", exact=True).click()
    expect(page.locator("#ask .answer")).to_have_text("Yesterday the fleet delivered 412.5 kWh.")
    expect(page.get_by_role("button", name="And the day before?")).to_be_visible()
    shot(page, "10-intelligence-with-data")

    page.get_by_role("link", name="Configuration", exact=True).click()
    expect(page.locator("#profiles table")).to_contain_text("Depot defaults")
    expect(page.locator("#profiles table")).to_contain_text("2 applied · 1 pending · 0 drifted")
    shot(page, "11-profiles-with-data")

    page.get_by_role("link", name="Firmware", exact=True).click()
    expect(page.locator("#campaigns table")).to_contain_text("running")
    expect(page.get_by_role("button", name=re.compile("^Pause campaign"))).to_be_visible()


# ---- tariffs and priced sessions ----
# Each test prices its own charger in its own site, so the Twin's sessions
# and the other tests' tariffs (two of one scope may not overlap) stay apart.

def _stamp():
    return int(time.time() * 1000) % 10**10


def _charger(sn):
    """A fresh 22 kW HTTP charger, registered as chargers do, online."""
    reg = _call("/v1/device/register", body={"sn": sn, "model": "TP-AC22", "manufacturer": "Tellus Power",
                                             "firmware_version": "1.6.0"})["data"]
    auth = _call("/v1/device/auth", body={"device_id": reg["device_id"], "device_secret": reg["device_secret"],
                                          "grant_type": "client_credentials"})
    charger = {"id": reg["device_id"], "sn": sn, "token": auth["access_token"]}
    _call("/v1/device/heartbeat", charger["token"], {"timestamp": iso(time.time()), "status": "online"})
    return charger


def _chargers_in_own_site(label, n, power_capacity=50):
    """`n` fresh chargers, alone in a new site of `power_capacity` kW."""
    sn = f"{label}-{_stamp()}"
    chargers = [_charger(f"{sn}-{i}" if n > 1 else sn) for i in range(n)]
    name = f"Harbour {sn}"
    site = _call("/v1/device/site", body={"name": name, "lat": 51.45, "lng": -2.6, "power_capacity": power_capacity,
                                          "device_ids": [c["id"] for c in chargers]})["data"]
    return chargers, {"site_id": site["site_id"], "name": name}


def _charger_in_own_site(label):
    """A fresh HTTP charger alone in a new site."""
    chargers, site = _chargers_in_own_site(label, 1)
    return chargers[0], site


def _session(charger, start, charging_min, end):
    """Charging from `start` at 6 kW for `charging_min` minutes, then parked
    until `end`, when the charger uploads the record; its id is returned."""
    def post(path, body):
        _call(path, charger["token"], body)
    post("/v1/device/events", {"timestamp": iso(start), "event_type": "start", "connector_id": 1})
    for m in range(5, charging_min + 1, 5):
        post("/v1/device/status", {"timestamp": iso(start + 60 * m), "connector_id": 1, "state": "charging",
                                   "voltage": 400, "current": 16, "power": 6.0, "energy_delivered": m * 0.1})
    post("/v1/device/events", {"timestamp": iso(start + 60 * charging_min), "event_type": "stop", "connector_id": 1})
    record_id = str(uuid.uuid4())
    post("/v1/device/charging-records", {"record_id": record_id, "connector_id": 1, "start_time": iso(start),
                                         "end_time": iso(end), "energy": round(charging_min * 0.1, 3)})
    # Unplugged afterwards, so the connector is not left charging in the fleet's counts.
    post("/v1/device/status", {"timestamp": iso(end), "connector_id": 1, "state": "idle",
                               "voltage": 400, "current": 0, "power": 0, "energy_delivered": 0})
    return record_id


def _site_tariff(token, site_id, currency, name):
    body = {"name": name, "currency": currency, "vat_percent": 20, "site_id": site_id, "elements": [
        {"price_components": [{"type": "ENERGY", "price": 0.2}, {"type": "TIME", "price": 1.2},
                              {"type": "PARKING_TIME", "price": 6, "step_size": 60}, {"type": "FLAT", "price": 1}]}]}
    return _call("/v1/tariffs", token, body)["data"]


def _priced_session(token, currency="EUR"):
    """A charger in its own site with a tariff, and one session priced by it:
    30 minutes charging (3 kWh), then 10 minutes parked."""
    charger, site = _charger_in_own_site("PRICED")
    tariff = _site_tariff(token, site["site_id"], currency, f"Harbour {currency}")
    start = int(time.time()) // 60 * 60 - 45 * 60
    record_id = _session(charger, start, 30, start + 40 * 60)
    record = _call(f"/v1/charging-records/{record_id}", token)["data"]
    return charger, site, tariff, record


def _euros(amount):
    assert round(amount, 2) == amount, amount
    return f"€{amount:,.2f}"


def _facts(locator):
    """A <dl>'s terms and values, as the reader sees them."""
    terms = locator.locator("dt").all_inner_texts()
    values = locator.locator("dd").all_inner_texts()
    return {t.replace("\xa0", " ").strip(): v.replace("\xa0", " ").strip() for t, v in zip(terms, values)}


def test_a_tariff_is_created_edited_and_deleted_through_the_dialogs(page, token):
    _, site = _charger_in_own_site("TARIFF")
    name = f"Peak and off-peak {_stamp()}"
    sign_in(page, "#/tariffs")
    expect(page.get_by_role("heading", name="Tariffs", exact=True)).to_be_visible()
    expect(page.get_by_role("link", name="Tariffs", exact=True)).to_have_attribute("aria-current", "page")
    page.get_by_role("button", name="New tariff…").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill(name)
    dialog.get_by_label("Currency").fill("eur")  # sent upper-case, as the API wants it
    dialog.get_by_label("VAT (%)").fill("19")
    dialog.get_by_label("Applies to").select_option(label=f"Site: {site['name']}")
    peak = dialog.get_by_role("group", name="Element 1")
    peak.get_by_label("Energy, per kWh").fill("0.55")
    peak.get_by_label("Energy step size (Wh)").fill("100")
    peak.get_by_label("Parking time, per hour").fill("4")
    peak.get_by_text("Restrictions (optional)").click()
    peak.get_by_label("Start time").fill("07:00")
    peak.get_by_label("End time").fill("22:00")
    peak.get_by_label("Monday").check()
    peak.get_by_label("Friday").check()
    peak.get_by_label("Maximum duration (minutes)").fill("120")
    dialog.get_by_role("button", name="Add element").click()
    rest = dialog.get_by_role("group", name="Element 2")
    rest.get_by_label("Energy, per kWh").fill("0.3")
    rest.get_by_label("Flat fee, per session").fill("1")
    shot(page, "12-new-tariff")
    dialog.get_by_role("button", name="Create tariff").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#status")).to_contain_text(f"{name} created.")

    stored = [t for t in api(token, "/v1/tariffs", site_id=site["site_id"])["items"] if t["name"] == name]
    assert len(stored) == 1, stored
    t = stored[0]
    assert (t["currency"], t["vat_percent"], t["site_id"], t["device_id"]) == ("EUR", 19, site["site_id"], None)
    assert t["valid_from"] is None and t["valid_to"] is None
    assert t["elements"][0]["price_components"] == [
        {"type": "ENERGY", "price": 0.55, "step_size": 100}, {"type": "PARKING_TIME", "price": 4, "step_size": 1}]
    r = t["elements"][0]["restrictions"]
    assert (r["start_time"], r["end_time"], r["day_of_week"], r["max_duration"]) == (
        "07:00", "22:00", ["MONDAY", "FRIDAY"], 7200), r
    assert t["elements"][1]["price_components"] == [
        {"type": "ENERGY", "price": 0.3, "step_size": 1}, {"type": "FLAT", "price": 1, "step_size": 1}]
    assert not t["elements"][1].get("restrictions")

    row = page.locator(f'tr[data-tariff-id="{t["tariff_id"]}"]')
    expect(row).to_contain_text(site["name"])
    expect(row).to_contain_text("in force")
    expect(row).to_contain_text("€0.55 per kWh (billed per 100 Wh)")
    expect(row).to_contain_text("when 07:00–22:00 · Mon, Fri · within the first 2 h")
    expect(row).to_contain_text("€1.00 per session")
    shot(page, "13-tariffs")

    # Editing replaces it: a new version with the changed VAT, the rest kept.
    row.get_by_role("button", name=f"Edit {name}").click()
    expect(dialog.get_by_label("Applies to")).to_have_value(f"site:{site['site_id']}")
    expect(dialog.get_by_role("group", name="Element 1").get_by_label("Start time")).to_have_value("07:00")
    dialog.get_by_label("VAT (%)").fill("20")
    dialog.get_by_role("button", name="Save tariff").click()
    expect(dialog).to_be_hidden()
    expect(page.locator("#status")).to_contain_text(f"{name} saved")
    again = _call(f"/v1/tariffs/{t['tariff_id']}", token)["data"]
    assert again["vat_percent"] == 20 and again["updated_at"] != t["updated_at"], again
    assert (again["created_at"], again["site_id"], again["elements"]) == (t["created_at"], t["site_id"], t["elements"])

    row.get_by_role("button", name=f"Delete {name}").click()
    expect(dialog).to_contain_text(f"Delete {name}?")
    dialog.get_by_role("button", name="Delete tariff").click()
    expect(dialog).to_be_hidden()
    expect(row).to_have_count(0)
    assert api(token, "/v1/tariffs", site_id=site["site_id"])["items"] == []


def test_a_bad_price_is_refused_in_the_dialog_with_the_field_named(page, token):
    name = f"Negative {_stamp()}"
    sign_in(page, "#/tariffs")
    page.get_by_role("button", name="New tariff…").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill(name)
    dialog.get_by_label("Currency").fill("GBP")
    price = dialog.get_by_role("group", name="Element 1").get_by_label("Energy, per kWh")
    price.fill("-1")
    dialog.get_by_role("button", name="Create tariff").click()
    alert = dialog.get_by_role("alert")
    expect(alert).to_contain_text("elements[0].price_components[0].price")
    expect(dialog).to_be_visible()  # kept open to correct the value
    expect(price).to_have_attribute("aria-invalid", "true")
    expect(dialog.get_by_label("Name")).not_to_have_attribute("aria-invalid", "true")
    shot(page, "14-tariff-refused")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    assert not [t for t in api(token, "/v1/tariffs", size=100)["items"] if t["name"] == name]


def test_a_viewer_sees_the_tariffs_but_is_offered_no_changes_once_refused(page, token):
    _, site = _charger_in_own_site("VIEWER")
    operator_id = _call(f"/v1/sites/{site['site_id']}", token)["data"]["operator_id"]
    tariff = _site_tariff(token, site["site_id"], "GBP", f"Viewer {_stamp()}")
    viewer = _call("/admin/clients", token, {"name": "console viewer", "operator_ids": [operator_id],
                                             "role": "viewer"})["data"]
    sign_in(page, "#/tariffs", viewer["client_id"], viewer["client_secret"])
    row = page.locator(f'tr[data-tariff-id="{tariff["tariff_id"]}"]')
    expect(row).to_contain_text(tariff["name"])
    # The console cannot know a client's role before the API refuses it.
    page.get_by_role("button", name="New tariff…").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Name").fill("Not allowed")
    dialog.get_by_label("Currency").fill("GBP")
    dialog.get_by_label("Applies to").select_option(label=f"Site: {site['name']}")
    dialog.get_by_role("group", name="Element 1").get_by_label("Flat fee, per session").fill("1")
    dialog.get_by_role("button", name="Create tariff").click()
    expect(dialog.get_by_role("alert")).to_contain_text("operator role")
    dialog.get_by_role("button", name="Cancel").click()
    expect(page.get_by_role("button", name="New tariff…")).to_be_hidden()
    expect(page.locator("[data-read-only]")).to_be_visible()
    expect(row).to_contain_text(tariff["name"])
    expect(row.get_by_role("button")).to_have_count(0)
    page.reload()  # remembered for the tab
    expect(row).to_be_visible()
    expect(page.get_by_role("button", name="New tariff…")).to_be_hidden()
    assert [t["tariff_id"] for t in api(token, "/v1/tariffs", site_id=site["site_id"])["items"]] == [tariff["tariff_id"]]


def test_the_site_page_shows_its_time_zone_and_the_tariff_that_applies(page, token):
    _, site = _charger_in_own_site("SITE")
    stored = _call(f"/v1/sites/{site['site_id']}", token)["data"]
    assert stored["time_zone"] == "UTC"
    # A fleet-wide tariff for the next hour only, deleted at the end, so the
    # Twin's sessions are priced by it for as short a time as possible.
    now = int(time.time())
    fleet = _call("/v1/tariffs", token, {
        "name": f"Fleet {_stamp()}", "currency": "GBP", "vat_percent": 20, "valid_from": iso(now - 60),
        "valid_to": iso(now + 3600), "elements": [{"price_components": [{"type": "ENERGY", "price": 0.39}]}]})["data"]
    try:
        assert fleet["operator_id"] == stored["operator_id"]
        sign_in(page, f"#/sites/{site['site_id']}")
        expect(page.get_by_role("heading", name=site["name"])).to_be_visible()
        details = page.locator("#site-details")
        expect(details.locator("[data-time-zone]")).to_have_text("UTC")
        applies = details.locator("[data-tariff-scope]")
        expect(applies).to_have_attribute("data-tariff-scope", "operator")
        expect(applies).to_contain_text(fleet["name"])
        expect(applies).to_contain_text("operator-wide tariff")
        expect(applies).to_contain_text("£0.39 per kWh")

        details.get_by_role("button", name="Edit details…").click()
        dialog = page.get_by_role("dialog")
        dialog.get_by_label("Time zone").fill("Mars/Olympus_Mons")
        dialog.get_by_role("button", name="Save details").click()
        expect(dialog.get_by_role("alert")).to_contain_text("time_zone")
        dialog.get_by_label("City").fill("Bristol")
        dialog.get_by_label("Country").fill("gbr")
        dialog.get_by_label("Time zone").fill("Europe/London")
        dialog.get_by_role("button", name="Save details").click()
        expect(dialog).to_be_hidden()
        expect(details.locator("[data-time-zone]")).to_have_text("Europe/London")
        expect(details.locator("[data-city]")).to_have_text("Bristol")
        expect(details.locator("[data-country]")).to_have_text("GBR")
        patched = _call(f"/v1/sites/{site['site_id']}", token)["data"]
        assert (patched["time_zone"], patched["city"], patched["country"]) == ("Europe/London", "Bristol", "GBR")

        # The site's own tariff takes over from the fleet's.
        own = _site_tariff(token, site["site_id"], "GBP", f"Harbour own {_stamp()}")
        page.reload()
        expect(applies).to_have_attribute("data-tariff-scope", "site")
        expect(applies).to_contain_text(own["name"])
        expect(applies).to_contain_text("this site’s tariff")
        expect(applies).to_contain_text("£6.00 per hour parked (billed per 1 min)")
        expect(applies).not_to_contain_text(fleet["name"])
        expect(details.locator("[data-time-zone]")).to_have_text("Europe/London")
        shot(page, "15-site-tariff")
    finally:
        _call(f"/v1/tariffs/{fleet['tariff_id']}", token, method="DELETE")


def test_a_priced_record_shows_its_breakdown_and_an_unpriced_one_says_so(page, token):
    charger, site = _charger_in_own_site("RECORDS")
    start = int(time.time()) // 60 * 60 - 90 * 60
    unpriced = _session(charger, start, 10, start + 15 * 60)  # before the site has a tariff
    _site_tariff(token, site["site_id"], "EUR", "Harbour EUR")
    start = int(time.time()) // 60 * 60 - 45 * 60
    priced = _session(charger, start, 30, start + 40 * 60)
    record = _call(f"/v1/charging-records/{priced}", token)["data"]
    price = record["price"]
    assert price is not None and price["currency"] == "EUR", record
    assert record["parking_time_s"] == 600
    # 3 kWh at 0.20, 30 min at 1.20 an hour, 10 min parked at 6 an hour, 1 flat.
    assert (price["energy"], price["time"], price["parking_time"], price["flat"]) == (0.6, 0.6, 1.0, 1.0), price
    assert (price["excl_vat"], price["incl_vat"]) == (3.2, 3.84), price
    assert _call(f"/v1/charging-records/{unpriced}", token)["data"]["price"] is None

    sign_in(page, f"#/records?device_id={charger['id']}")
    row = page.locator(f'tr[data-record-id="{priced}"]')
    expect(row).to_contain_text("€3.84")
    expect(row.locator('td[data-label="Parked"]')).to_have_text("10 min")
    plain = page.locator(f'tr[data-record-id="{unpriced}"]')
    expect(plain).to_contain_text("not priced")
    expect(plain.get_by_role("button")).to_have_count(0)

    button = row.get_by_role("button", name=re.compile(f"^Price breakdown of the session on {charger['sn']}"))
    expect(button).to_have_attribute("aria-expanded", "false")
    button.click()
    expect(button).to_have_attribute("aria-expanded", "true")
    breakdown = page.locator(f'tr[data-breakdown="{priced}"]')
    expect(breakdown).to_be_visible()
    facts = _facts(breakdown)
    assert facts["Energy"] == _euros(price["energy"])
    assert facts["Charging time"] == _euros(price["time"])
    assert facts["Parking time"] == _euros(price["parking_time"])
    assert facts["Flat fee"] == _euros(price["flat"])
    assert facts["Excl. VAT"] == _euros(price["excl_vat"])
    assert facts["VAT 20 %"] == _euros(round(price["incl_vat"] - price["excl_vat"], 2))
    assert facts["Incl. VAT"] == _euros(price["incl_vat"])
    assert facts["Currency"] == "EUR"
    assert facts["Parked"] == "10 min"
    # The breakdown sits right under its record and closes again.
    assert page.evaluate("(id) => document.querySelector(`tr[data-record-id='${id}']`).nextElementSibling"
                         ".dataset.breakdown", priced) == priced
    shot(page, "16-record-breakdown")
    button.click()
    expect(breakdown).to_have_count(0)


def test_the_overview_shows_the_last_30_days_revenue_per_currency(page, token):
    empty = {"granularity": "day", "from": iso(time.time() - 30 * 86400), "to": iso(time.time()),
             "series": [], "total": []}
    pattern = re.compile(r"/v1/aggregated/revenue(\?.*)?$")
    page.route(pattern, lambda route: route.fulfill(status=200, content_type="application/json", body=_ok(empty)))
    sign_in(page)
    revenue = page.get_by_role("region", name="Revenue, last 30 days")
    expect(revenue).to_contain_text("No priced sessions yet.")
    page.unroute(pattern)

    _, _, _, record = _priced_session(token, "EUR")
    assert record["price"]["incl_vat"] == 3.84
    with page.expect_response(lambda r: "/v1/aggregated/revenue" in r.url) as answer:
        page.reload()
    url = urllib.parse.urlparse(answer.value.url)
    query = urllib.parse.parse_qs(url.query)
    assert query["granularity"] == ["day"]
    days = (calendar.timegm(time.strptime(query["to"][0][:19], "%Y-%m-%dT%H:%M:%S"))
            - calendar.timegm(time.strptime(query["from"][0][:19], "%Y-%m-%dT%H:%M:%S"))) / 86400
    assert 29 < days <= 30, query
    totals = answer.value.json()["data"]["total"]
    eur = next(t for t in totals if t["currency"] == "EUR")
    assert eur["sessions"] >= 1 and eur["incl_vat"] >= 3.84, totals
    rows = revenue.locator("tbody tr")
    expect(rows).to_have_count(len(totals))
    row = revenue.locator('tr[data-currency="EUR"]')
    cells = {c.get_attribute("data-label"): c.inner_text().replace("\xa0", " ") for c in row.locator("td").all()}
    assert cells == {
        "Currency": "EUR", "Sessions": str(eur["sessions"]), "Energy": f"{eur['energy']:,.2f} kWh",
        "Excl. VAT": _euros(eur["excl_vat"]), "Incl. VAT": _euros(eur["incl_vat"]),
    }, cells
    shot(page, "17-overview-revenue")


# ---- load management (contract §16) ----

def _limits(charger):
    """The power limits a heartbeat hands the charger, by connector (the last of each)."""
    answer = _call("/v1/device/heartbeat", charger["token"], {"timestamp": iso(time.time()), "status": "online"})
    return {c["connector_id"]: c["limit_kw"] for c in answer["data"].get("commands", [])
            if c["command"] == "set_power_limit"}


def test_load_management_is_turned_on_and_off_through_the_dialog(page, token):
    _, site = _charger_in_own_site("LOAD")
    path = f"/v1/sites/{site['site_id']}"
    assert "load_management" not in _call(path, token)["data"]
    sign_in(page, f"#/sites/{site['site_id']}")
    box = page.locator("#load-management")
    expect(box.locator("[data-load-state]")).to_have_attribute("data-load-state", "unset")
    expect(box.locator("[data-capacity]")).to_have_text("50.0\xa0kW")  # the site's connection until set

    box.get_by_role("button", name="Edit load management…").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Share the capacity among the sessions").check()
    dialog.get_by_label("Capacity (kW)").fill("40")
    dialog.get_by_label("Minimum per session (kW)").fill("2")
    dialog.get_by_label("Reserve (kW)").fill("5")
    shot(page, "18-load-management-dialog")
    dialog.get_by_role("button", name="Save load management").click()
    expect(dialog).to_be_hidden()
    expect(box.locator("[data-load-state]")).to_have_attribute("data-load-state", "on")
    expect(box.locator("[data-capacity]")).to_have_text("40.0\xa0kW")
    expect(box.locator("[data-min-session]")).to_have_text("2.0\xa0kW")
    expect(box.locator("[data-reserve]")).to_have_text("5.0\xa0kW")
    expect(box.locator("[data-allocated]")).to_have_text("0.0\xa0kW of 40.0\xa0kW")
    expect(page.locator("#load-chart")).to_have_attribute("data-capacity", "40")
    lm = _call(path, token)["data"]["load_management"]
    assert lm == {"enabled": True, "capacity_kw": 40, "min_session_kw": 2, "reserve_kw": 5,
                  "allocated_kw": 0, "connectors": []}, lm

    # Turned off, the settings stay for the next time.
    box.get_by_role("button", name="Edit load management…").click()
    expect(dialog.get_by_label("Capacity (kW)")).to_have_value("40")
    enabled = dialog.get_by_label("Share the capacity among the sessions")
    expect(enabled).to_be_checked()
    enabled.uncheck()
    dialog.get_by_role("button", name="Save load management").click()
    expect(dialog).to_be_hidden()
    expect(box.locator("[data-load-state]")).to_have_attribute("data-load-state", "off")
    lm = _call(path, token)["data"]["load_management"]
    assert (lm["enabled"], lm["capacity_kw"], lm["min_session_kw"], lm["reserve_kw"]) == (False, 40, 2, 5), lm


def test_a_reserve_not_under_the_capacity_is_refused_with_the_field_named(page, token):
    _, site = _charger_in_own_site("RESERVE")
    sign_in(page, f"#/sites/{site['site_id']}")
    box = page.locator("#load-management")
    box.get_by_role("button", name="Edit load management…").click()
    dialog = page.get_by_role("dialog")
    dialog.get_by_label("Share the capacity among the sessions").check()
    expect(dialog.get_by_label("Capacity (kW)")).to_have_value("50")
    reserve = dialog.get_by_label("Reserve (kW)")
    reserve.fill("50")
    dialog.get_by_role("button", name="Save load management").click()
    expect(dialog.get_by_role("alert")).to_contain_text("load_management.reserve_kw")
    expect(dialog).to_be_visible()  # kept open to correct the value
    expect(reserve).to_have_attribute("aria-invalid", "true")
    expect(dialog.get_by_label("Capacity (kW)")).not_to_have_attribute("aria-invalid", "true")
    shot(page, "19-load-management-refused")
    dialog.get_by_role("button", name="Cancel").click()
    expect(dialog).to_be_hidden()
    expect(box.locator("[data-load-state]")).to_have_attribute("data-load-state", "unset")
    assert "load_management" not in _call(f"/v1/sites/{site['site_id']}", token)["data"]


def test_the_site_page_shows_each_sessions_share_as_the_api_gives_it(page, token):
    chargers, site = _chargers_in_own_site("SHARE", 2, power_capacity=30)
    path = f"/v1/sites/{site['site_id']}"
    _call(path, token, {"load_management": {"enabled": True}}, method="PATCH")

    def post(charger, route, body):
        _call(route, charger["token"], {"timestamp": iso(time.time()), "connector_id": 1, **body})
    try:
        for c in chargers:
            post(c, "/v1/device/events", {"event_type": "start"})
        # Two 22 kW chargers on 30 kW: 15 kW each, sent to both.
        for c in chargers:
            assert _limits(c) == {1: 15}, c["sn"]
        lm = _call(path, token)["data"]["load_management"]
        assert sorted((s["device_id"], s["limit_kw"]) for s in lm["connectors"]) == sorted(
            (c["id"], 15) for c in chargers), lm
        assert lm["allocated_kw"] == 30, lm

        sign_in(page, f"#/sites/{site['site_id']}")
        box = page.locator("#load-management")
        expect(box.locator("[data-load-state]")).to_have_attribute("data-load-state", "on")
        expect(box.locator("[data-allocated]")).to_have_text("30.0\xa0kW of 30.0\xa0kW")
        rows = box.locator("tbody tr")
        expect(rows).to_have_count(len(lm["connectors"]))
        for share in lm["connectors"]:
            row = box.locator(f'tr[data-device-id="{share["device_id"]}"][data-connector-id="{share["connector_id"]}"]')
            sn = next(c["sn"] for c in chargers if c["id"] == share["device_id"])
            expect(row.get_by_role("link", name=sn)).to_have_attribute("href", f"#/devices/{share['device_id']}")
            expect(row.locator('td[data-label="Limit"]')).to_have_text(f"{share['limit_kw']:.1f}\xa0kW")

        # A charger's reading shows as its draw at the next refresh.
        post(chargers[0], "/v1/device/status", {"state": "charging", "voltage": 400, "current": 18.5,
                                                "power": 7.4, "energy_delivered": 0.1})
        row = box.locator(f'tr[data-device-id="{chargers[0]["id"]}"]')
        expect(row.locator('td[data-label="Draw"]')).to_have_text("7.4\xa0kW", timeout=15000)
        expect(page.locator("#load-chart")).to_have_attribute("data-capacity", "30")
        expect(page.locator("#load-chart")).to_have_attribute("data-points", "24")
        shot(page, "20-load-management")
    finally:
        # Unplugged, so the connectors are not left charging in the fleet's counts.
        for c in chargers:
            post(c, "/v1/device/events", {"event_type": "stop"})
            post(c, "/v1/device/status", {"state": "idle", "voltage": 400, "current": 0, "power": 0,
                                          "energy_delivered": 0})
