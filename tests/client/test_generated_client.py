"""The API as an integrator meets it: a client generated from docs/openapi.json
by openapi-python-client, driven against a running server.

Every request below goes through the generated package (`chargenet_client`),
never hand-written HTTP. Plain JSON-like values are turned into the types the
generated signatures ask for (models, enums, datetimes, UUIDs), so the tests
keep working as the document's types get stricter.

Environment: CHARGENET_URL (the server), ADMIN_CLIENT_ID and
ADMIN_CLIENT_SECRET (an admin client of that server), OPENAPI_DOC (the
document the package was generated from; default docs/openapi.json).
"""

import datetime as dt
import enum
import inspect
import json
import os
import pathlib
import re
import typing
import uuid

import pytest

import chargenet_client
from chargenet_client import AuthenticatedClient, Client
from chargenet_client.api.auth import oauth_token
from chargenet_client.api.commands import start
from chargenet_client.api.console import (
    energy,
    get_command,
    health,
    list_devices,
    list_sites,
)
from chargenet_client.api.device import (
    auth,
    command_status,
    commands,
    heartbeat,
    register,
    site,
    status,
)

HTTP_METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}
UTC = dt.timezone.utc


# --- calling the generated client -------------------------------------------


def typed(value, hint):
    """`value` (JSON-like) as the type `hint` of a generated signature asks for."""
    members = typing.get_args(hint) or (hint,)
    if type(value) in members or not isinstance(value, (str, dict)):
        return value
    for t in members:
        if not isinstance(t, type):
            continue
        if isinstance(value, dict) and hasattr(t, "from_dict"):
            return t.from_dict(value)
        if isinstance(value, str) and issubclass(t, enum.Enum):
            return t(value)
        if isinstance(value, str) and t is dt.datetime:
            return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
        if isinstance(value, str) and t is uuid.UUID:
            return uuid.UUID(value)
    return value


def call(endpoint, *args, expect=200, **kwargs):
    """Calls a generated endpoint module; checks the HTTP status and answers
    the parsed body as JSON-like data (through the generated model)."""
    fn = endpoint.sync_detailed
    hints = typing.get_type_hints(fn)
    names = list(inspect.signature(fn).parameters)
    args = [typed(a, hints.get(n)) for a, n in zip(args, names, strict=False)]
    kwargs = {k: typed(v, hints.get(k)) for k, v in kwargs.items()}
    response = fn(*args, **kwargs)
    assert response.status_code == expect, (
        f"{endpoint.__name__}: HTTP {response.status_code}, wanted {expect}: "
        f"{response.content.decode(errors='replace')}"
    )
    assert response.parsed is not None, f"{endpoint.__name__}: answer not parsed"
    return response.parsed.to_dict()


def data(endpoint, *args, expect=200, **kwargs):
    """`data` of a successful envelope."""
    answer = call(endpoint, *args, expect=expect, **kwargs)
    assert answer["code"] == 0 and answer["message"] == "success", answer
    return answer["data"]


def rfc3339(t):
    return t.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def at(text):
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00"))


# --- the server and a small fleet -------------------------------------------


@pytest.fixture(scope="module")
def base_url():
    url = os.environ.get("CHARGENET_URL")
    if not url:
        pytest.fail("set CHARGENET_URL, ADMIN_CLIENT_ID and ADMIN_CLIENT_SECRET")
    return url


@pytest.fixture(scope="module")
def anonymous(base_url):
    return Client(base_url=base_url, raise_on_unexpected_status=True)


@pytest.fixture(scope="module")
def admin_token(anonymous):
    answer = call(
        oauth_token,
        client=anonymous,
        body={
            "grant_type": "client_credentials",
            "client_id": os.environ["ADMIN_CLIENT_ID"],
            "client_secret": os.environ["ADMIN_CLIENT_SECRET"],
        },
    )
    return answer


@pytest.fixture(scope="module")
def admin(base_url, admin_token):
    return AuthenticatedClient(
        base_url=base_url, token=admin_token["access_token"], raise_on_unexpected_status=True
    )


class Charger:
    def __init__(self, base_url, anonymous, model):
        self.sn = f"OAPI-{uuid.uuid4().hex[:12].upper()}"
        self.registered = data(
            register,
            client=anonymous,
            body={
                "sn": self.sn,
                "model": model,
                "manufacturer": "Tellus Power",
                "firmware_version": "1.5.0",
            },
        )
        self.device_id = self.registered["device_id"]
        token = call(
            auth,
            client=anonymous,
            body={
                "device_id": self.device_id,
                "device_secret": self.registered["device_secret"],
                "grant_type": "client_credentials",
            },
        )
        self.token = token
        self.client = AuthenticatedClient(
            base_url=base_url, token=token["access_token"], raise_on_unexpected_status=True
        )

    def heartbeat(self):
        now = dt.datetime.now(UTC)
        return data(
            heartbeat, client=self.client, body={"timestamp": rfc3339(now), "status": "online"}
        )


@pytest.fixture(scope="module")
def fleet(base_url, anonymous):
    """Three chargers in one new site: `a` and `b` (TP-AC22) online, `c`
    (TP-AC7) never heard from; `a` reports two samples after joining."""
    a = Charger(base_url, anonymous, "TP-AC22")
    b = Charger(base_url, anonymous, "TP-AC22")
    c = Charger(base_url, anonymous, "TP-AC7")
    for charger in (a, b):
        assert charger.heartbeat() == {"commands": []}
    name = f"OpenAPI check {a.sn}"
    saved = data(
        site,
        client=a.client,
        body={
            "name": name,
            "address": "1 Test Street, Coventry",
            "postcode": "CV1 2AA",
            "lat": 52.4068,
            "lng": -1.5197,
            "power_capacity": 200.0,
            "device_ids": [a.device_id, b.device_id, c.device_id],
        },
    )
    now = dt.datetime.now(UTC).replace(microsecond=0)
    samples = [  # (time, cumulative kWh, kW)
        (now - dt.timedelta(hours=2), 3.0, 7.0),
        (now - dt.timedelta(minutes=1), 5.5, 11.0),
    ]
    for ts, kwh, kw in samples:
        data(
            status,
            client=a.client,
            body={
                "timestamp": rfc3339(ts),
                "connector_id": 1,
                "state": "charging",
                "voltage": 230.0,
                "current": kw * 1000 / 230,
                "power": kw,
                "energy_delivered": kwh,
                "soc": 40.0,
            },
        )
    return {"a": a, "b": b, "c": c, "site_id": saved["site_id"], "name": name, "samples": samples}


# --- the document and the generated package ----------------------------------


def test_every_operation_of_the_document_is_generated():
    doc = json.loads(pathlib.Path(os.environ.get("OPENAPI_DOC", "docs/openapi.json")).read_text())
    documented = {
        (method.upper(), re.sub(r"\{[^}]*\}", "{}", path))
        for path, item in doc["paths"].items()
        for method in item
        if method in HTTP_METHODS
    }
    generated = set()
    modules = [
        m
        for m in pathlib.Path(chargenet_client.__file__).parent.glob("api/*/*.py")
        if m.name != "__init__.py"
    ]
    for module in modules:
        src = module.read_text()
        method = re.search(r'"method": "(\w+)"', src).group(1)
        url = re.search(r'"url": f?"([^"]+)"', src).group(1)
        generated.add((method.upper(), re.sub(r"\{[^}]*\}", "{}", url)))
    assert len(modules) == len(documented)
    assert generated == documented, {
        "missing": sorted(documented - generated),
        "extra": sorted(generated - documented),
    }


# --- the API through the generated client ------------------------------------


def test_health(anonymous):
    answer = call(health, client=anonymous)
    assert answer["status"] == "ok"
    assert answer["version"]
    assert abs(at(answer["timestamp"]) - dt.datetime.now(UTC)) < dt.timedelta(minutes=5)
    assert call(health, client=anonymous, deep=True)["status"] == "ok"


def test_oauth_token(anonymous, admin_token):
    assert re.fullmatch(r"[0-9a-f]{64}", admin_token["access_token"])
    assert admin_token["token_type"] == "Bearer"
    assert admin_token["expires_in"] == 86400
    assert admin_token["code"] == 0
    assert admin_token["data"]["access_token"] == admin_token["access_token"]
    wrong = call(
        oauth_token,
        client=anonymous,
        expect=401,
        body={
            "grant_type": "client_credentials",
            "client_id": os.environ["ADMIN_CLIENT_ID"],
            "client_secret": "0" * 64,
        },
    )
    assert wrong["code"] == 40101


def test_device_registration_and_token(fleet):
    a = fleet["a"]
    assert re.fullmatch(r"[0-9a-f]{64}", a.registered["device_secret"])
    assert a.registered["expires_in"] == 86400
    assert a.token["token_type"] == "Bearer" and a.token["expires_in"] == 86400
    uuid.UUID(a.device_id)
    uuid.UUID(fleet["site_id"])


def ids(page):
    return {item["device_id"] for item in page["items"]}


def test_list_devices_with_filters_and_paging(admin, fleet):
    a, b, c, site_id = fleet["a"], fleet["b"], fleet["c"], fleet["site_id"]
    everyone = data(list_devices, client=admin, site_id=site_id)
    assert everyone["total"] == 3 and everyone["page"] == 1
    assert ids(everyone) == {a.device_id, b.device_id, c.device_id}
    by_id = {item["device_id"]: item for item in everyone["items"]}
    assert by_id[a.device_id]["sn"] == a.sn
    assert by_id[a.device_id]["model"] == "TP-AC22"
    assert by_id[a.device_id]["site_id"] == site_id
    assert by_id[a.device_id]["status"] == "online"
    assert by_id[c.device_id]["status"] == "offline"
    charging = [x for x in by_id[a.device_id]["connectors"] if x["connector_id"] == 1]
    assert charging and charging[0]["status"] == "charging"
    assert charging[0]["energy_delivered"] == 5.5

    online = data(list_devices, client=admin, site_id=site_id, status="online")
    assert online["total"] == 2 and ids(online) == {a.device_id, b.device_id}
    offline = data(list_devices, client=admin, site_id=site_id, status="offline")
    assert offline["total"] == 1 and ids(offline) == {c.device_id}
    small = data(list_devices, client=admin, site_id=site_id, model="TP-AC7")
    assert small["total"] == 1 and ids(small) == {c.device_id}

    first = data(list_devices, client=admin, site_id=site_id, page=1, size=2)
    second = data(list_devices, client=admin, site_id=site_id, page=2, size=2)
    assert (first["total"], first["page"], first["size"], len(first["items"])) == (3, 1, 2, 2)
    assert (second["total"], second["page"], second["size"], len(second["items"])) == (3, 2, 2, 1)
    assert ids(first) | ids(second) == {a.device_id, b.device_id, c.device_id}

    too_big = call(list_devices, client=admin, size=101, expect=422)
    assert too_big["code"] == 42200


def test_list_sites_with_paging(admin, fleet):
    first = data(list_sites, client=admin, page=1, size=1)
    assert first["page"] == 1 and first["size"] == 1 and len(first["items"]) == 1
    assert first["total"] >= 1
    found = None
    for page in range(1, first["total"] + 1):
        items = data(list_sites, client=admin, page=page, size=1)["items"]
        found = next((s for s in items if s["site_id"] == fleet["site_id"]), None)
        if found:
            break
    assert found, "the new site is not in any page of /v1/sites"
    assert found["name"] == fleet["name"]
    assert found["postcode"] == "CV1 2AA"
    assert found["location"] == {"lat": 52.4068, "lng": -1.5197}
    assert found["power_capacity"] == 200.0
    devices = data(list_devices, client=admin, site_id=fleet["site_id"])["items"]
    assert found["total_connectors"] == sum(len(d["connectors"]) for d in devices)
    assert found["operator_id"] == devices[0]["operator_id"]
    assert found["status_summary"]["charging"] == 1  # connector 1 of `a`
    assert found["status_summary"]["discharging"] == 0

    too_big = call(list_sites, client=admin, size=101, expect=422)
    assert too_big["code"] == 42200


def floor(t, unit):
    if unit == "day":
        return t.replace(hour=0, minute=0, second=0, microsecond=0)
    return t.replace(minute=0, second=0, microsecond=0)


@pytest.mark.parametrize("granularity", ["hour", "day"])
@pytest.mark.parametrize("scope", ["device_id", "site_id"])
def test_energy_by_granularity(admin, fleet, granularity, scope):
    step = dt.timedelta(hours=1) if granularity == "hour" else dt.timedelta(days=1)
    (t1, kwh1, kw1), (t2, kwh2, kw2) = fleet["samples"]
    start_at = floor(t1, granularity) - step
    end_at = floor(dt.datetime.now(UTC), granularity) + 2 * step
    expected = {}
    for t, added in ((t1, kwh1), (t2, kwh2 - kwh1)):
        slot = floor(t, granularity)
        expected[slot] = expected.get(slot, 0.0) + added
    scope_id = fleet["site_id"] if scope == "site_id" else fleet["a"].device_id

    answer = data(
        energy,
        client=admin,
        granularity=granularity,
        from_=rfc3339(start_at),
        to=rfc3339(end_at),
        **{scope: scope_id},
    )
    assert answer["granularity"] == granularity
    assert answer[scope] == scope_id
    assert at(answer["from"]) == start_at and at(answer["to"]) == end_at
    series = answer["series"]
    assert [at(p["timestamp"]) for p in series] == [
        start_at + i * step for i in range(round((end_at - start_at) / step))
    ]
    for point in series:
        want = expected.get(at(point["timestamp"]), 0.0)
        assert point["charge_energy"] == pytest.approx(want), point
        assert point["discharge_energy"] == 0.0
    assert answer["total"]["charge_energy"] == pytest.approx(kwh2)
    assert answer["total"]["discharge_energy"] == 0.0
    assert answer["total"]["max_power"] == pytest.approx(max(kw1, kw2))


def test_remote_start_round_trip(admin, fleet):
    a = fleet["a"]
    a.heartbeat()  # online now, and nothing pending
    refused = call(start, a.device_id, 2, client=admin, body={"charge_power": 999.0}, expect=422)
    assert refused["code"] == 42200 and "charge_power" in json.dumps(refused)

    queued = data(
        start,
        a.device_id,
        2,
        client=admin,
        body={"charge_power": 7.4, "target_soc": 80.0},
        expect=202,
    )
    assert queued["status"] == "queued"
    command_id = queued["command_id"]

    shown = data(get_command, command_id, client=admin)
    assert shown["command_id"] == command_id
    assert shown["command"] == "start_charging"
    assert shown["device_id"] == a.device_id
    assert shown["connector_id"] == 2
    assert shown["status"] == "queued"
    assert shown["charge_power"] == 7.4 and shown["target_soc"] == 80.0

    fetched = data(commands, client=a.client, wait=1)
    assert fetched["command_id"] == command_id and fetched["status"] == "delivered"
    assert fetched["command"] == "start_charging" and fetched["charge_power"] == 7.4
    assert a.heartbeat() == {"commands": []}, "a delivered command was handed out again at once"

    for report in ("accepted", "completed"):
        data(
            command_status,
            client=a.client,
            body={
                "command_id": command_id,
                "status": report,
                "timestamp": rfc3339(dt.datetime.now(UTC)),
                "message": f"test {report}",
            },
        )
    late = call(
        command_status,
        client=a.client,
        expect=409,
        body={
            "command_id": command_id,
            "status": "failed",
            "timestamp": rfc3339(dt.datetime.now(UTC)),
        },
    )
    assert late["code"] == 40900

    done = data(get_command, command_id, client=admin)
    assert done["status"] == "completed"
    assert [h["status"] for h in done["history"]] == [
        "queued",
        "delivered",
        "accepted",
        "completed",
    ]
    assert done["history"][-1]["message"] == "test completed"
    times = [at(h["at"]) for h in done["history"]]
    assert times == sorted(times)
