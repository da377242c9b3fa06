//! The recorded API Gateway events under `events/<function>/`, named
//! `<route>-<status>.json`, and what their `${...}` placeholders stand for
//! (what only exists at run time: a registered device, its token, now).

use chrono::{DateTime, Duration, Utc};
use domain::Domain;
use domain::devices::{Possession, Registration};
use domain::ingest::Heartbeat;
use domain::model::{CommandKind, Operator, Role};
use domain::records::RecordUpload;
use domain::sites::{SiteAuthority, SiteRegistration};
use std::collections::BTreeMap;

/// Each folder under `events/` with the template function it belongs to.
pub const FUNCTION_DIRS: [(&str, &str); 4] = [
    ("device-api", "DeviceApiFunction"),
    ("console-api", "ConsoleApiFunction"),
    ("command-api", "CommandApiFunction"),
    ("auth-api", "AuthApiFunction"),
];

/// One recorded event.
pub struct Recorded {
    pub dir: &'static str,
    pub function: &'static str,
    /// The file name without `.json`.
    pub name: String,
    /// The status its name ends with.
    pub status: u16,
    text: String,
}

impl Recorded {
    /// The event with its placeholders filled in.
    pub fn filled(&self, values: &BTreeMap<&'static str, String>) -> String {
        let mut text = self.text.clone();
        for (key, value) in values {
            text = text.replace(&format!("${{{key}}}"), value);
        }
        text
    }
}

/// Every recorded event, folder by folder, in name order.
pub fn recorded() -> Vec<Recorded> {
    let mut out = Vec::new();
    for (dir, function) in FUNCTION_DIRS {
        let mut files: Vec<_> = std::fs::read_dir(crate::workspace_file(&format!("events/{dir}")))
            .expect("events folder")
            .map(|e| e.expect("entry").path())
            .collect();
        files.sort();
        for file in files {
            let name = file.file_stem().unwrap().to_string_lossy().into_owned();
            let status = name
                .rsplit('-')
                .next()
                .and_then(|s| s.parse().ok())
                .unwrap_or_else(|| panic!("{name}: the name must end with -<status>"));
            let text = std::fs::read_to_string(&file).expect("event file");
            out.push(Recorded {
                dir,
                function,
                name,
                status,
                text,
            });
        }
    }
    out
}

/// Values for the `${...}` placeholders of the recorded events: a
/// registered device in a site with its token, commands, a record, a V2G
/// charger, and clients of each role, made in `domain`'s table.
pub async fn placeholders(domain: &Domain, now: DateTime<Utc>) -> BTreeMap<&'static str, String> {
    let sn = format!("EVT-{}", &uuid_like()[..8]);
    let creds = domain
        .register(
            Registration {
                sn: sn.clone(),
                model: "TP-AC22".into(),
                manufacturer: "Tellus Power".into(),
                firmware_version: "1.5.0".into(),
            },
            Possession::default(),
        )
        .await
        .expect("device registers");
    let token = domain
        .authenticate(
            &creds.device_id.to_string(),
            &creds.device_secret,
            "client_credentials",
        )
        .await
        .expect("device authenticates");
    let acme = domain.settings.default_operator.clone();
    domain
        .store
        .ensure_operator(&Operator {
            id: acme.clone(),
            name: "Acme Charging Network UK".into(),
            country: "GB".into(),
            status: "active".into(),
        })
        .await
        .expect("operator");
    let site = domain
        .register_site(
            &SiteAuthority::default(),
            SiteRegistration {
                site_id: None,
                operator_id: None,
                name: "Coventry".into(),
                address: String::new(),
                postcode: String::new(),
                lat: 52.4,
                lng: -1.5,
                power_capacity: 176.0,
                device_ids: vec![creds.device_id.to_string()],
            },
        )
        .await
        .expect("site");
    let device = domain
        .store
        .get_device(creds.device_id)
        .await
        .unwrap()
        .unwrap();
    let command = domain
        .enqueue_command(&device, Some(1), CommandKind::Reboot, Default::default())
        .await
        .expect("command");
    let admin = domain
        .bootstrap_client(None, None, Role::Admin, vec![], None)
        .await
        .expect("admin client");
    let viewer = domain
        .bootstrap_client(None, None, Role::Viewer, vec![acme.clone()], None)
        .await
        .expect("viewer client");
    let operator = domain
        .bootstrap_client(None, None, Role::Operator, vec![acme], None)
        .await
        .expect("operator client");
    // Commands need an online device.
    domain
        .heartbeat(
            domain.verify_token(&token.access_token).expect("token"),
            Heartbeat {
                timestamp: domain::validate::rfc3339(now),
                status: "online".into(),
            },
        )
        .await
        .expect("heartbeat");
    let operator_token = |id: String, secret: String| {
        let domain = domain.clone();
        async move {
            domain
                .issue_operator_token(&id, &secret, "client_credentials")
                .await
                .expect("operator token")
                .access_token
        }
    };
    let claims = domain.verify_token(&token.access_token).expect("token");
    // A command already delivered, which the device may report on.
    let delivered = domain
        .enqueue_command(&device, Some(1), CommandKind::Reboot, Default::default())
        .await
        .expect("command");
    domain
        .deliver(device.device_id, usize::MAX)
        .await
        .expect("delivery");
    let stored_record = domain::ids::RecordId::random().to_string();
    domain
        .upload_record(
            claims,
            RecordUpload {
                record_id: stored_record.clone(),
                connector_id: 1,
                start_time: domain::validate::rfc3339(now - Duration::hours(1)),
                end_time: domain::validate::rfc3339(now),
                energy: 7.5,
                max_power: Some(22.0),
                cost: Some(2.63),
                currency: Some("GBP".into()),
                stop_reason: None,
            },
        )
        .await
        .expect("record");
    let v2g = domain
        .register(
            Registration {
                sn: format!("EVT-V2G-{}", &uuid_like()[..8]),
                model: "TP-DC180".into(),
                manufacturer: "Tellus Power".into(),
                firmware_version: "2.2.0".into(),
            },
            Possession::default(),
        )
        .await
        .expect("V2G device");
    let v2g_token = domain
        .authenticate(
            &v2g.device_id.to_string(),
            &v2g.device_secret,
            "client_credentials",
        )
        .await
        .expect("V2G token");
    domain
        .heartbeat(
            domain.verify_token(&v2g_token.access_token).expect("token"),
            Heartbeat {
                timestamp: domain::validate::rfc3339(now),
                status: "online".into(),
            },
        )
        .await
        .expect("V2G heartbeat");
    BTreeMap::from([
        ("DELIVERED_COMMAND_ID", delivered.command_id.to_string()),
        ("STORED_RECORD_ID", stored_record),
        ("V2G_DEVICE_ID", v2g.device_id.to_string()),
        ("SITE_ID", site.to_string()),
        ("COMMAND_ID", command.command_id.to_string()),
        (
            "ADMIN_TOKEN",
            operator_token(admin.client_id, admin.client_secret).await,
        ),
        (
            "OPERATOR_TOKEN",
            operator_token(operator.client_id, operator.client_secret).await,
        ),
        (
            "VIEWER_TOKEN",
            operator_token(viewer.client_id.clone(), viewer.client_secret.clone()).await,
        ),
        ("CLIENT_ID", viewer.client_id),
        ("CLIENT_SECRET", viewer.client_secret),
        ("DEVICE_ID", creds.device_id.to_string()),
        ("DEVICE_SECRET", creds.device_secret),
        ("DEVICE_SN", sn),
        ("DEVICE_TOKEN", token.access_token),
        ("NOW", domain::validate::rfc3339(now)),
        (
            "HOUR_AGO",
            domain::validate::rfc3339(now - Duration::hours(1)),
        ),
        ("RECORD_ID", domain::ids::RecordId::random().to_string()),
        ("RUN", uuid_like()[..12].to_owned()),
    ])
}

fn uuid_like() -> String {
    domain::ids::CommandId::random().0.simple().to_string()
}
