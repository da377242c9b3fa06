//! The table in `template.yaml` is the table the code creates: same keys,
//! same indexes, same TTL attribute.

use std::collections::BTreeSet;
use system_tests::template;

fn names(list: &serde_yaml::Value, field: &str) -> Vec<String> {
    list.as_sequence()
        .expect("a list")
        .iter()
        .map(|v| v[field].as_str().expect("a name").to_owned())
        .collect()
}

#[test]
fn the_template_table_matches_the_code_definition() {
    let doc = template();
    let table = &doc["Resources"]["Table"]["Properties"];

    let declared: BTreeSet<String> = names(&table["AttributeDefinitions"], "AttributeName")
        .into_iter()
        .collect();
    let expected: BTreeSet<String> = store::table::key_attributes()
        .into_iter()
        .map(str::to_owned)
        .collect();
    assert_eq!(declared, expected, "attribute definitions");

    assert_eq!(
        names(&table["KeySchema"], "AttributeName"),
        [store::keys::PK, store::keys::SK]
    );

    let indexes = table["GlobalSecondaryIndexes"]
        .as_sequence()
        .expect("indexes");
    assert_eq!(indexes.len(), store::table::INDEXES.len());
    for (name, hash, range) in store::table::INDEXES {
        let index = indexes
            .iter()
            .find(|i| i["IndexName"].as_str() == Some(name))
            .unwrap_or_else(|| panic!("index {name} missing from template.yaml"));
        assert_eq!(
            names(&index["KeySchema"], "AttributeName"),
            [hash, range],
            "{name} keys"
        );
        assert_eq!(
            index["Projection"]["ProjectionType"].as_str(),
            Some("ALL"),
            "{name} projection"
        );
    }

    let ttl = &table["TimeToLiveSpecification"];
    assert_eq!(
        ttl["AttributeName"].as_str(),
        Some(store::table::TTL_ATTRIBUTE)
    );
    assert_eq!(ttl["Enabled"].as_bool(), Some(true));
    assert_eq!(
        table["PointInTimeRecoverySpecification"]["PointInTimeRecoveryEnabled"].as_bool(),
        Some(true)
    );
    assert_eq!(
        doc["Resources"]["Table"]["DeletionPolicy"].as_str(),
        Some("Retain")
    );
}
