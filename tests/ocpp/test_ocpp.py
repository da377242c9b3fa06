"""OCPP charge points against a running server, played by the reference
charge point of the Python `ocpp` package, which checks every message both
ways against the official schemas.

    CHARGENET_URL=http://127.0.0.1:3000 ADMIN_CLIENT_ID=.. ADMIN_CLIENT_SECRET=.. \
        python3 -m pytest tests/ocpp
"""

import asyncio
import base64
import json
import os
import secrets
import time
import urllib.error
import urllib.request
from datetime import datetime, timezone

import pytest
import websockets
from ocpp.routing import on
from ocpp.v16 import ChargePoint as ChargePoint16
from ocpp.v16 import call as call16
from ocpp.v16.enums import Action as Action16
from ocpp.v201 import ChargePoint as ChargePoint201
from ocpp.v201 import call as call201
from ocpp.v201 import call_result as result201
from ocpp.v201.enums import Action as Action201
from ocpp.v16 import call_result as result16

BASE = os.environ.get("CHARGENET_URL", "http://127.0.0.1:3000")
WS = BASE.replace("http", "ws", 1)


def request(method, path, token=None, body=None):
    req = urllib.request.Request(BASE + path, method=method)
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    data = json.dumps(body).encode() if body is not None else None
    try:
        with urllib.request.urlopen(req, data=data, timeout=30) as res:
            return res.status, json.load(res)
    except urllib.error.HTTPError as e:
        return e.code, json.load(e)


@pytest.fixture(scope="module")
def token():
    status, answer = request("POST", "/v1/oauth/token", body={
        "grant_type": "client_credentials",
        "client_id": os.environ["ADMIN_CLIENT_ID"],
        "client_secret": os.environ["ADMIN_CLIENT_SECRET"]})
    assert status == 200, answer
    return answer["access_token"]


def provision(token):
    cpid = f"CP-{secrets.token_hex(4)}:{secrets.token_hex(2)}"
    status, answer = request("POST", "/v1/ocpp/charge-points", token, {"charge_point_id": cpid})
    assert status == 201, answer
    data = answer["data"]
    assert data["charge_point_id"] == cpid
    assert len(data["password"]) == 40 and int(data["password"], 16) >= 0
    assert data["url"].endswith("/ocpp")
    return data


def connect(cp, protocols, password=None):
    secret = password or cp["password"]
    basic = base64.b64encode(f"{cp['charge_point_id']}:{secret}".encode()).decode()
    return websockets.connect(
        f"{WS}/ocpp/{cp['charge_point_id']}",
        subprotocols=protocols,
        additional_headers={"Authorization": f"Basic {basic}"},
    )


def now():
    return datetime.now(timezone.utc).isoformat()


async def eventually(check, timeout=10.0):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.2)


def command_status(token, command_id):
    return request("GET", f"/v1/commands/{command_id}", token)[1]["data"]["status"]


class Charger16(ChargePoint16):
    remote_starts = []

    @on(Action16.remote_start_transaction)
    def on_remote_start(self, id_tag, connector_id=None, **_):
        self.remote_starts.append((connector_id, id_tag))
        return result16.RemoteStartTransaction(status="Accepted")

    @on(Action16.remote_stop_transaction)
    def on_remote_stop(self, transaction_id, **_):
        self.stopped = transaction_id
        return result16.RemoteStopTransaction(status="Accepted")

    @on(Action16.change_configuration)
    def on_change_configuration(self, key, value, **_):
        self.configured = getattr(self, "configured", {})
        self.configured[key] = value
        return result16.ChangeConfiguration(status="Accepted")


class Charger201(ChargePoint201):
    @on(Action201.request_start_transaction)
    def on_request_start(self, id_token, remote_start_id, evse_id=None, **_):
        self.started = (evse_id, id_token["id_token"], remote_start_id)
        return result201.RequestStartTransaction(status="Accepted")

    @on(Action201.request_stop_transaction)
    def on_request_stop(self, transaction_id, **_):
        self.stopped = transaction_id
        return result201.RequestStopTransaction(status="Accepted")

    @on(Action201.set_variables)
    def on_set_variables(self, set_variable_data, **_):
        self.variables = {d["variable"]["name"]: d["attribute_value"] for d in set_variable_data}
        return result201.SetVariables(set_variable_result=[
            {"attribute_status": "Accepted", "component": d["component"], "variable": d["variable"]}
            for d in set_variable_data])


def test_a_16_charger_boots_charges_and_is_stopped(token):
    cp = provision(token)

    async def run():
        async with connect(cp, ["ocpp1.6"]) as ws:
            assert ws.subprotocol == "ocpp1.6"
            charger = Charger16(cp["charge_point_id"], ws)
            charger.remote_starts = []
            task = asyncio.create_task(charger.start())
            boot = await charger.call(call16.BootNotification(
                charge_point_vendor="Acme", charge_point_model="AC22",
                charge_point_serial_number="SN-1", firmware_version="1.2.3"))
            assert boot.status == "Accepted" and boot.interval == 300
            beat = await charger.call(call16.Heartbeat())
            assert beat.current_time
            await charger.call(call16.StatusNotification(
                connector_id=1, error_code="NoError", status="Available", timestamp=now()))
            view = request("GET", f"/v1/ocpp/charge-points/{cp['charge_point_id']}", token)[1]["data"]
            assert view["connected"] and view["protocol"] == "ocpp1.6"
            assert view["boot"]["vendor"] == "Acme" and view["boot"]["serial_number"] == "SN-1"
            device = request("GET", f"/v1/devices/{cp['device_id']}", token)[1]["data"]
            assert device["model"] == "AC22" and device["firmware_version"] == "1.2.3"

            status, queued = request("POST", f"/v1/devices/{cp['device_id']}/connectors/1/start", token, {})
            assert status == 202, queued
            command_id = queued["data"]["command_id"]
            await eventually(lambda: charger.remote_starts)
            connector, id_tag = charger.remote_starts[0]
            assert connector == 1
            await eventually(lambda: command_status(token, command_id) == "accepted")
            auth = await charger.call(call16.Authorize(id_tag=id_tag.lower()))
            assert auth.id_tag_info["status"] == "Accepted"
            start = await charger.call(call16.StartTransaction(
                connector_id=1, id_tag=id_tag, meter_start=1000, timestamp=now()))
            assert start.id_tag_info["status"] == "Accepted"
            assert command_status(token, command_id) == "completed"
            tx = start.transaction_id
            await charger.call(call16.MeterValues(connector_id=1, transaction_id=tx, meter_value=[{
                "timestamp": now(), "sampled_value": [
                    {"value": "7400", "measurand": "Power.Active.Import", "unit": "W"},
                    {"value": "3500", "measurand": "Energy.Active.Import.Register", "unit": "Wh"}]}]))
            live = request("GET", f"/v1/devices/{cp['device_id']}/connectors", token)[1]["data"]
            one = live[0] if isinstance(live, list) else live["items"][0]
            assert one["status"] == "charging" and one["power"] == 7.4
            assert one["energy_delivered"] == 2.5

            status, stop = request("POST", f"/v1/devices/{cp['device_id']}/connectors/1/stop", token, {})
            assert status == 202, stop
            await eventually(lambda: getattr(charger, "stopped", None) == tx)
            for _ in range(2):  # a repeated stop makes no second record
                await charger.call(call16.StopTransaction(
                    meter_stop=11000, timestamp=now(), transaction_id=tx, reason="Remote"))
            assert command_status(token, stop["data"]["command_id"]) == "completed"
            records = request("GET", f"/v1/charging-records?device_id={cp['device_id']}", token)[1]["data"]
            mine = [r for r in records["items"] if r["device_id"] == cp["device_id"]]
            assert len(mine) == 1 and mine[0]["energy"] == 10.0 and mine[0]["stop_reason"] == "remote"
            task.cancel()

    asyncio.run(run())


def test_a_201_station_charges_and_takes_a_profile(token):
    cp = provision(token)

    async def run():
        async with connect(cp, ["ocpp1.6", "ocpp2.0.1"]) as ws:
            assert ws.subprotocol == "ocpp2.0.1"
            charger = Charger201(cp["charge_point_id"], ws)
            task = asyncio.create_task(charger.start())
            boot = await charger.call(call201.BootNotification(
                charging_station={"model": "DC50", "vendor_name": "Acme"}, reason="PowerUp"))
            assert boot.status == "Accepted" and boot.interval == 300
            await charger.call(call201.StatusNotification(
                timestamp=now(), connector_status="Available", evse_id=1, connector_id=1))
            status, queued = request("POST", f"/v1/devices/{cp['device_id']}/connectors/1/start", token, {})
            assert status == 202, queued
            await eventually(lambda: getattr(charger, "started", None))
            evse, id_token, remote_start_id = charger.started
            assert evse == 1
            started = await charger.call(call201.TransactionEvent(
                event_type="Started", timestamp=now(), trigger_reason="RemoteStart", seq_no=0,
                transaction_info={"transaction_id": "tx-1", "remote_start_id": remote_start_id,
                                  "charging_state": "Charging"},
                evse={"id": 1, "connector_id": 1},
                id_token={"id_token": id_token, "type": "Central"},
                meter_value=[{"timestamp": now(), "sampled_value": [
                    {"value": 2000, "measurand": "Energy.Active.Import.Register"}]}]))
            assert started.id_token_info["status"] == "Accepted"
            await eventually(lambda: command_status(token, queued["data"]["command_id"]) == "completed")
            await charger.call(call201.TransactionEvent(
                event_type="Ended", timestamp=now(), trigger_reason="EVCommunicationLost", seq_no=1,
                transaction_info={"transaction_id": "tx-1", "stopped_reason": "EVDisconnected"},
                meter_value=[{"timestamp": now(), "sampled_value": [
                    {"value": 5.5, "measurand": "Energy.Active.Import.Register",
                     "unit_of_measure": {"unit": "kWh"}}]}]))
            records = request("GET", f"/v1/charging-records?device_id={cp['device_id']}", token)[1]["data"]
            mine = [r for r in records["items"] if r["device_id"] == cp["device_id"]]
            assert len(mine) == 1 and mine[0]["energy"] == 3.5
            assert mine[0]["stop_reason"] == "ev_disconnected"

            status, profile = request("POST", "/v1/configuration/profiles", token, {
                "name": f"ocpp-{secrets.token_hex(3)}",
                "settings": {"heartbeat_interval_s": 120, "max_current_a": 16}})
            assert status == 200, profile
            status, applied = request(
                "POST", f"/v1/configuration/profiles/{profile['data']['profile_id']}/apply", token,
                {"device_ids": [cp["device_id"]]})
            assert status == 202, applied
            await eventually(lambda: getattr(charger, "variables", None))
            assert charger.variables["HeartbeatInterval"] == "120"
            command_id = applied["data"]["commands"][0]["command_id"]
            await eventually(lambda: command_status(token, command_id) == "completed")
            task.cancel()

    asyncio.run(run())


def test_malformed_frames_are_answered_and_the_connection_kept(token):
    cp = provision(token)

    async def run():
        async with connect(cp, ["ocpp1.6"]) as ws:
            await ws.send("not json")
            assert json.loads(await ws.recv())[:3] == [4, "-1", "FormationViolation"]
            await ws.send(json.dumps([2, "m1", "BootNotification", {"chargePointVendor": "Acme"}]))
            assert json.loads(await ws.recv())[:3] == [4, "m1", "ProtocolError"]
            await ws.send(json.dumps([2, "m2", "BootNotification",
                                      {"chargePointVendor": 5, "chargePointModel": "M"}]))
            assert json.loads(await ws.recv())[:3] == [4, "m2", "TypeConstraintViolation"]
            await ws.send(json.dumps([2, "m3", "TransactionEvent", {}]))
            assert json.loads(await ws.recv())[:3] == [4, "m3", "NotSupported"]
            await ws.send(json.dumps([2, "m4", "DiagnosticsStatusNotification", {"status": "Idle"}]))
            assert json.loads(await ws.recv())[:3] == [4, "m4", "NotImplemented"]
            await ws.send(json.dumps([2, "m5", "Heartbeat", {}]))
            answer = json.loads(await ws.recv())
            assert answer[:2] == [3, "m5"] and "currentTime" in answer[2]
        async with connect(cp, ["ocpp2.0.1"]) as ws:
            await ws.send("[2, ")
            assert json.loads(await ws.recv())[:3] == [4, "-1", "FormatViolation"]

    asyncio.run(run())


def test_wrong_passwords_and_other_tenants_are_refused(token):
    cp = provision(token)

    async def run():
        with pytest.raises(websockets.exceptions.InvalidStatus) as refused:
            async with connect(cp, ["ocpp1.6"], password="0" * 40):
                pass
        assert refused.value.response.status_code == 401
        with pytest.raises(websockets.exceptions.InvalidStatus):
            async with connect(cp, ["mqtt"]):
                pass
        status, rotated = request("POST", f"/v1/ocpp/charge-points/{cp['charge_point_id']}/password", token)
        assert status == 200 and rotated["data"]["password"] != cp["password"]
        with pytest.raises(websockets.exceptions.InvalidStatus):
            async with connect(cp, ["ocpp1.6"]):
                pass
        async with connect(cp, ["ocpp1.6"], password=rotated["data"]["password"]) as ws:
            await ws.send(json.dumps([2, "h", "Heartbeat", {}]))
            assert json.loads(await ws.recv())[0] == 3

    asyncio.run(run())
    status, _ = request("POST", "/v1/ocpp/charge-points", token, {"charge_point_id": cp["charge_point_id"]})
    assert status == 409
    status, _ = request("POST", "/v1/ocpp/charge-points", token, {"charge_point_id": "bad id!"})
    assert status == 422


def test_driver_tokens_answer_both_versions_and_ride_on_records(token):
    prefix = secrets.token_hex(3).upper()
    tags = {"ok": f"{prefix}-OK", "blocked": f"{prefix}-BLK", "expired": f"{prefix}-OLD"}
    for name, body in [
        ("ok", {"id_tag": tags["ok"], "label": "driver 1"}),
        ("blocked", {"id_tag": tags["blocked"], "status": "blocked"}),
        ("expired", {"id_tag": tags["expired"], "expires_at": "2020-01-01T00:00:00Z"}),
    ]:
        status, answer = request("POST", "/v1/id-tags", token, body)
        assert status == 201, answer
        assert answer["data"]["id_tag"] == tags[name]
    status, again = request("POST", "/v1/id-tags", token, {"id_tag": tags["ok"].lower()})
    assert status == 409, again
    status, bad = request("POST", "/v1/id-tags", token, {"id_tag": "X" * 21})
    assert status == 422, bad
    listed = request("GET", "/v1/id-tags?status=blocked&size=100", token)[1]["data"]
    assert tags["blocked"] in [t["id_tag"] for t in listed["items"]]
    assert all(t["status"] == "blocked" for t in listed["items"])
    cp16, cp201 = provision(token), provision(token)

    async def run():
        async with connect(cp16, ["ocpp1.6"]) as ws:
            charger = Charger16(cp16["charge_point_id"], ws)
            task = asyncio.create_task(charger.start())

            async def authorize(tag):
                return (await charger.call(call16.Authorize(id_tag=tag))).id_tag_info["status"]

            assert await authorize(tags["ok"].lower()) == "Accepted"
            assert await authorize(tags["blocked"]) == "Blocked"
            assert await authorize(tags["expired"]) == "Expired"
            assert await authorize(f"{prefix}-NONE") == "Invalid"
            status, _ = request("PATCH", f"/v1/id-tags/{tags['ok']}", token, {"status": "blocked"})
            assert status == 200
            assert await authorize(tags["ok"]) == "Blocked"
            status, _ = request("PATCH", f"/v1/id-tags/{tags['ok'].lower()}", token, {"status": "accepted"})
            assert status == 200
            start = await charger.call(call16.StartTransaction(
                connector_id=1, id_tag=tags["ok"], meter_start=0, timestamp=now()))
            assert start.id_tag_info["status"] == "Accepted"
            await charger.call(call16.StopTransaction(
                meter_stop=4200, timestamp=now(), transaction_id=start.transaction_id, id_tag=tags["ok"]))
            task.cancel()
        async with connect(cp201, ["ocpp2.0.1"]) as ws:
            charger = Charger201(cp201["charge_point_id"], ws)
            task = asyncio.create_task(charger.start())
            for tag, expected in [(tags["ok"], "Accepted"), (tags["blocked"], "Blocked"),
                                  (tags["expired"], "Expired"), (f"{prefix}-NONE", "Invalid")]:
                answer = await charger.call(call201.Authorize(id_token={"id_token": tag, "type": "ISO14443"}))
                assert answer.id_token_info["status"] == expected, tag
            task.cancel()

    asyncio.run(run())
    records = request("GET", f"/v1/charging-records?id_tag={tags['ok'].lower()}", token)[1]["data"]
    assert [r["device_id"] for r in records["items"]] == [cp16["device_id"]]
    assert records["items"][0]["id_tag"] == tags["ok"] and records["items"][0]["energy"] == 4.2
    status, _ = request("DELETE", f"/v1/id-tags/{tags['expired']}", token)
    assert status == 200
    status, _ = request("GET", f"/v1/id-tags/{tags['expired']}", token)
    assert status == 404
