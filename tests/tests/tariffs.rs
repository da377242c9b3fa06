//! Tariffs (contract §14): created, listed, read, replaced and deleted by
//! their operator; every bad field is 422 naming it with nothing stored;
//! two tariffs of one scope may not be valid at the same time.

use kernel::model::Role;
use serde_json::{Value, json};
use system_tests::world::World;

fn standard() -> Value {
    json!({"name": "Standard", "currency": "GBP", "vat_percent": 20,
    "elements": [
        {"price_components": [{"type": "ENERGY", "price": 0.45, "step_size": 1},
            {"type": "PARKING_TIME", "price": 6, "step_size": 300}],
         "restrictions": {"start_time": "07:00", "end_time": "22:00",
            "day_of_week": ["MONDAY", "FRIDAY"], "min_kwh": 0.5, "max_duration": 7200}},
        {"price_components": [{"type": "ENERGY", "price": 0.3}, {"type": "FLAT", "price": 1}]}
    ]})
}

fn with(mut body: Value, changes: Value) -> Value {
    for (k, v) in changes.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

#[tokio::test]
async fn an_operator_keeps_its_tariffs_and_others_see_none() {
    let w = World::new().await;
    let operator = w.token(Role::Operator).await;
    let viewer = w.token(Role::Viewer).await;
    let created = w
        .call(&operator, "POST", "/v1/tariffs", Some(standard()))
        .await;
    assert_eq!(created.status, 201, "{:?}", created.body);
    let t = created.data().clone();
    let id = t["tariff_id"].as_str().unwrap().to_owned();
    assert_eq!(t["operator_id"], w.acme().to_string());
    assert_eq!(t["currency"], "GBP");
    assert_eq!(t["vat_percent"], 20.0);
    let first = &t["elements"][0];
    assert_eq!(first["price_components"][1]["type"], "PARKING_TIME");
    assert_eq!(first["price_components"][1]["step_size"], 300);
    assert_eq!(first["restrictions"]["start_time"], "07:00");
    assert_eq!(
        first["restrictions"]["day_of_week"],
        json!(["MONDAY", "FRIDAY"])
    );
    assert_eq!(first["restrictions"]["min_kwh"], 0.5);
    assert_eq!(t["elements"][1]["price_components"][0]["step_size"], 1);
    assert!(t["elements"][1].get("restrictions").is_none());
    assert!(t["site_id"].is_null() && t["device_id"].is_null());

    let read = w
        .call(&viewer, "GET", &format!("/v1/tariffs/{id}"), None)
        .await;
    assert_eq!(read.status, 200);
    assert_eq!(read.data(), &t);
    let listed = w.call(&viewer, "GET", "/v1/tariffs", None).await;
    assert_eq!(listed.data()["items"][0]["tariff_id"], id.as_str());
    assert_eq!(
        w.call(&viewer, "POST", "/v1/tariffs", Some(standard()))
            .await
            .status,
        403,
        "viewers read only"
    );

    let other = w.env.operator("volt-tariffs").await;
    let theirs = w
        .env
        .operator_token(Role::Operator, vec![other.clone()])
        .await;
    assert_eq!(
        w.call(&theirs, "GET", &format!("/v1/tariffs/{id}"), None)
            .await
            .status,
        404
    );
    let none = w.call(&theirs, "GET", "/v1/tariffs", None).await;
    assert_eq!(none.data()["items"], json!([]));
    for (method, body) in [("PUT", Some(standard())), ("DELETE", None)] {
        let r = w
            .call(&theirs, method, &format!("/v1/tariffs/{id}"), body)
            .await;
        assert_eq!(r.status, 404, "{method} of another tenant's tariff");
    }

    let replaced = w
        .call(
            &operator,
            "PUT",
            &format!("/v1/tariffs/{id}"),
            Some(with(
                standard(),
                json!({"name": "Standard 2027", "vat_percent": 5}),
            )),
        )
        .await;
    assert_eq!(replaced.status, 200, "{:?}", replaced.body);
    assert_eq!(replaced.data()["name"], "Standard 2027");
    assert_eq!(replaced.data()["created_at"], t["created_at"]);
    let deleted = w
        .call(&operator, "DELETE", &format!("/v1/tariffs/{id}"), None)
        .await;
    assert_eq!(deleted.status, 200);
    assert_eq!(
        w.call(&viewer, "GET", &format!("/v1/tariffs/{id}"), None)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn a_bad_field_is_named_and_nothing_is_stored() {
    // Without the request log, so that nothing at all may be written.
    let env =
        testkit::TestEnv::with_settings(|s| s.request_log = kernel::settings::RequestLogMode::Off)
            .await;
    let w = World::on(env);
    let operator = w.token(Role::Operator).await;
    let element = |component: Value, restrictions: Value| json!([{"price_components": [component], "restrictions": restrictions}]);
    let energy = json!({"type": "ENERGY", "price": 0.3});
    let many: Vec<Value> = (0..21)
        .map(|_| json!({"price_components": [{"type": "ENERGY", "price": 0.3}]}))
        .collect();
    let cases = [
        (json!({"currency": "gbp"}), "currency"),
        (json!({"currency": "POUND"}), "currency"),
        (json!({"vat_percent": 120}), "vat_percent"),
        (json!({"vat_percent": -1}), "vat_percent"),
        (json!({"elements": []}), "elements"),
        (json!({"elements": many}), "elements"),
        (
            json!({"elements": element(json!({"type": "ENERGY", "price": -0.1}), json!(null))}),
            "elements[0].price_components[0].price",
        ),
        (
            json!({"elements": element(json!({"type": "ENERGY", "price": 1500}), json!(null))}),
            "elements[0].price_components[0].price",
        ),
        (
            json!({"elements": element(json!({"type": "ENERGY", "price": 0.3, "step_size": 0}), json!(null))}),
            "elements[0].price_components[0].step_size",
        ),
        (
            json!({"elements": element(json!({"type": "POWER", "price": 0.3}), json!(null))}),
            "elements[0].price_components[0].type",
        ),
        (
            json!({"elements": element(energy.clone(), json!({"start_time": "7:00"}))}),
            "elements[0].restrictions.start_time",
        ),
        (
            json!({"elements": element(energy.clone(), json!({"end_time": "24:00"}))}),
            "elements[0].restrictions.end_time",
        ),
        (
            json!({"elements": element(energy.clone(), json!({"day_of_week": ["MONDAY", "FUNDAY"]}))}),
            "elements[0].restrictions.day_of_week[1]",
        ),
        (
            json!({"elements": element(energy.clone(), json!({"start_date": "2026-13-01"}))}),
            "elements[0].restrictions.start_date",
        ),
        (
            json!({"elements": element(energy.clone(), json!({"min_kwh": 10, "max_kwh": 5}))}),
            "elements[0].restrictions.max_kwh",
        ),
        (
            json!({"elements": [{"price_components": []}]}),
            "elements[0].price_components",
        ),
        (
            json!({"valid_from": "2027-01-01T00:00:00Z", "valid_to": "2026-01-01T00:00:00Z"}),
            "valid_to",
        ),
        (json!({"name": ""}), "name"),
        (json!({"site_id": "not-a-site"}), "site_id"),
    ];
    let before = w.env.snapshot().await;
    for (change, field) in cases {
        let body = with(standard(), change.clone());
        let r = w.call(&operator, "POST", "/v1/tariffs", Some(body)).await;
        assert_eq!(r.status, 422, "{change}: {:?}", r.body);
        let fields: Vec<&str> = r.data()["errors"]
            .as_array()
            .unwrap()
            .iter()
            .filter_map(|e| e["field"].as_str())
            .collect();
        assert!(fields.contains(&field), "{change}: {fields:?}");
    }
    assert_eq!(w.env.snapshot().await, before, "nothing was stored");
}

#[tokio::test]
async fn two_tariffs_of_one_scope_may_not_be_valid_at_once() {
    let w = World::new().await;
    let operator = w.token(Role::Operator).await;
    let c = w.charger("TAR-1", "TP-AC22", "1.5.0").await;
    let site = w
        .call(
            &operator,
            "POST",
            "/v1/device/site",
            Some(
                json!({"name": "Harbour", "lat": 52.0, "lng": -1.0, "power_capacity": 50,
            "device_ids": [c.id]}),
            ),
        )
        .await;
    let site_id = site.data()["site_id"].as_str().unwrap().to_owned();
    let post = |body: Value| {
        let (w, operator) = (&w, &operator);
        async move { w.call(operator, "POST", "/v1/tariffs", Some(body)).await }
    };
    let year = |from: &str, to: &str| json!({"valid_from": from, "valid_to": to});
    let fleet_2027 = with(
        standard(),
        year("2027-01-01T00:00:00Z", "2028-01-01T00:00:00Z"),
    );
    assert_eq!(post(fleet_2027.clone()).await.status, 201);
    assert_eq!(post(fleet_2027).await.status, 409, "the same year twice");
    let open_ended = with(standard(), json!({"valid_from": "2027-06-01T00:00:00Z"}));
    assert_eq!(
        post(open_ended).await.status,
        409,
        "from mid-2027 on overlaps"
    );
    let fleet_2028 = with(
        standard(),
        year("2028-01-01T00:00:00Z", "2029-01-01T00:00:00Z"),
    );
    let next = post(fleet_2028).await;
    assert_eq!(next.status, 201, "valid_to is exclusive: {:?}", next.body);
    // Other scopes do not clash with the fleet's.
    let site_scoped = with(standard(), json!({"site_id": site_id}));
    assert_eq!(post(site_scoped.clone()).await.status, 201);
    assert_eq!(post(site_scoped).await.status, 409);
    let device_scoped = with(standard(), json!({"device_id": c.id}));
    assert_eq!(post(device_scoped).await.status, 201);
    let both = with(standard(), json!({"device_id": c.id, "site_id": site_id}));
    assert_eq!(post(both).await.status, 422);
    // A replacement that would overlap another is refused as well.
    let id = next.data()["tariff_id"].as_str().unwrap().to_owned();
    let into_2027 = with(
        standard(),
        year("2027-06-01T00:00:00Z", "2029-01-01T00:00:00Z"),
    );
    let r = w
        .call(
            &operator,
            "PUT",
            &format!("/v1/tariffs/{id}"),
            Some(into_2027),
        )
        .await;
    assert_eq!(r.status, 409, "{:?}", r.body);
    let listed = w
        .call(
            &operator,
            "GET",
            &format!("/v1/tariffs?site_id={site_id}"),
            None,
        )
        .await;
    assert_eq!(listed.data()["items"].as_array().unwrap().len(), 1);
}
