//! Administration of a deployed stack from a workstation: creates the
//! first admin client and operators directly in the table, with the normal
//! AWS credential chain (or any DynamoDB endpoint).

use clap::{Parser, Subcommand};
use domain::Domain;
use kernel::access::Caller;
use kernel::ids::OperatorId;
use kernel::model::{Operator, Role};
use kernel::{Settings, SystemClock};
use std::sync::Arc;
use store::DynamoStore;

#[derive(Debug, Parser)]
#[command(version, about = "Administer the charging backend's table")]
struct Args {
    /// The DynamoDB table (the stack's TableName output).
    #[arg(long, env = "TABLE_NAME", default_value = "chargenet")]
    table: String,
    /// Another DynamoDB endpoint (moto, the local server's engine).
    #[arg(long)]
    dynamodb_endpoint: Option<String>,
    /// The operator owning devices in no site (the stack's setting).
    #[arg(long, env = "DEFAULT_OPERATOR_ID", default_value = "acme-charging-uk")]
    default_operator: String,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Create an API client and print its credentials (shown only once).
    CreateClient {
        #[arg(long, value_parser = parse_role)]
        role: Role,
        /// Operators the client acts for (repeat); none for an admin.
        #[arg(long = "operator")]
        operators: Vec<String>,
        #[arg(long)]
        name: Option<String>,
    },
    /// Create an operator.
    CreateOperator {
        #[arg(long)]
        id: String,
        #[arg(long)]
        name: String,
        #[arg(long, default_value = "GB")]
        country: String,
    },
    /// Count every operator's devices and sites again, for tables with
    /// data from before the counters were kept (run while nothing
    /// registers).
    Recount,
}

fn parse_role(raw: &str) -> Result<Role, String> {
    match raw {
        "viewer" => Ok(Role::Viewer),
        "operator" => Ok(Role::Operator),
        "admin" => Ok(Role::Admin),
        _ => Err("viewer, operator or admin".into()),
    }
}

#[tokio::main]
async fn main() {
    if let Err(e) = run(Args::parse()).await {
        eprintln!("admin: {e}");
        std::process::exit(1);
    }
}

async fn run(args: Args) -> Result<(), String> {
    let client = match &args.dynamodb_endpoint {
        Some(endpoint) => store::client_for_endpoint(endpoint, None),
        None => store::client_from_env(None).await,
    };
    store::table::ensure_table(&client, &args.table)
        .await
        .map_err(|e| e.to_string())?;
    // No device tokens are issued or checked here: no signing key.
    let mut settings = Settings::new(&args.table, None);
    settings.default_operator = OperatorId::parse(&args.default_operator)
        .ok_or("the default operator must be an operator slug")?;
    let store = DynamoStore::new(client, &args.table);
    let domain = Domain::new(Arc::new(store), settings, Arc::new(SystemClock));
    match args.command {
        Command::CreateClient {
            role,
            operators,
            name,
        } => {
            let mut ids = Vec::new();
            for raw in &operators {
                ids.push(OperatorId::parse(raw).ok_or(format!("{raw:?} is not an operator slug"))?);
            }
            if ids.is_empty() && role != Role::Admin {
                return Err("a viewer or operator client needs --operator".into());
            }
            let created = domain
                .tenants
                .bootstrap_client(None, None, role, ids, name)
                .await
                .map_err(|e| e.to_string())?;
            println!("client_id={}", created.client_id);
            println!("client_secret={}", created.client_secret.expose());
        }
        Command::CreateOperator { id, name, country } => {
            let id = OperatorId::parse(&id).ok_or("the id must be an operator slug")?;
            let platform = Caller {
                client_id: "admin-tool".into(),
                role: Role::Admin,
                operators: vec![],
            };
            let op = Operator {
                id,
                name,
                country,
                status: "active".into(),
            };
            let created = domain
                .tenants
                .create_operator(&platform, op)
                .await
                .map_err(|e| e.to_string())?;
            println!("operator {} created", created.id);
        }
        Command::Recount => {
            for r in domain
                .recount
                .recount_fleets()
                .await
                .map_err(|e| e.to_string())?
            {
                println!("{}: {} devices, {} sites", r.operator, r.devices, r.sites);
            }
        }
    }
    Ok(())
}
