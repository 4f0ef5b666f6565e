//! Mapping files that must not load, and the message each gets.

use crate::normalize::{MappingError, MappingSet};

fn error(toml: &str) -> String {
    MappingSet::from_toml_str("test.toml", toml)
        .unwrap_err()
        .to_string()
}

const HEAD: &str = "source = \"erp-x\"\n[objects.Contact]\nexternal_id = \"External_Id__c\"\n";

fn with_fields(fields: &str) -> String {
    format!("{HEAD}[objects.Contact.fields]\nExternal_Id__c = {{ from = \"id\" }}\n{fields}")
}

#[test]
fn bad_toml_names_the_file_and_line() {
    let msg = error("source = \"erp-x\"\n[objects.Contact\n");
    assert!(msg.starts_with("test.toml: not valid TOML: "), "{msg}");
    assert!(msg.contains("line 2"), "{msg}");
    assert!(matches!(
        MappingSet::from_toml_str("t", "x = "),
        Err(MappingError::Toml { .. })
    ));
}

#[test]
fn unknown_transform_names_source_object_and_field() {
    assert_eq!(
        error(&with_fields(
            "Email = { from = \"mail\", transforms = [\"emial\"] }"
        )),
        "test.toml, source \"erp-x\", object \"Contact\", field \"Email\": unknown transform \"emial\""
    );
}

#[test]
fn missing_and_misspelt_keys_are_refused() {
    assert_eq!(
        error("[objects.Contact]\nexternal_id = \"X\""),
        "test.toml: missing key \"source\""
    );
    assert_eq!(
        error("source = \"s\"\n[objects.Contact]\nfields = {}"),
        "test.toml, source \"s\", object \"Contact\": missing key \"external_id\""
    );
    assert_eq!(
        error(&with_fields("LastName = { form = \"nom\" }")),
        "test.toml, source \"erp-x\", object \"Contact\", field \"LastName\": unknown key \"form\""
    );
    assert_eq!(
        error(&with_fields("LastName = { required = true }")),
        "test.toml, source \"erp-x\", object \"Contact\", field \"LastName\": needs \"from\" (incoming field names) or \"value\" (a constant)"
    );
    assert_eq!(
        error(&format!(
            "{HEAD}[objects.Contact.fields]\nLastName = {{ from = \"nom\" }}"
        )),
        "test.toml, source \"erp-x\", object \"Contact\": external id field \"External_Id__c\" has no entry under fields"
    );
    assert_eq!(
        error("source = \"s\""),
        "test.toml, source \"s\": no objects"
    );
}

#[test]
fn transform_parameters_are_checked_at_load() {
    let field = |t: &str| {
        error(&with_fields(&format!(
            "F = {{ from = \"f\", transforms = [{t}] }}"
        )))
    };
    let at = "test.toml, source \"erp-x\", object \"Contact\", field \"F\": ";
    assert_eq!(
        field("\"date\""),
        format!("{at}transform \"date\": missing key \"format\"")
    );
    assert_eq!(
        field("{ rule = \"date\", format = \"dd/mm/y\" }"),
        format!(
            "{at}transform \"date\": unknown letter 'y' in date format \"dd/mm/y\": put literal text in single quotes"
        )
    );
    assert_eq!(
        field("{ rule = \"date\", format = \"dd MMM yyyy\" }"),
        format!(
            "{at}transform \"date\": date format \"dd MMM yyyy\" reads month names: set locale (fr, en, de, es, it, nl or pt)"
        )
    );
    assert_eq!(
        field("{ rule = \"decimal\", locale = \"sv\" }"),
        format!("{at}transform \"decimal\": unknown locale \"sv\" (fr, en, de, es, it, nl or pt)")
    );
    assert_eq!(
        field("\"decimal\""),
        format!(
            "{at}transform \"decimal\": needs a locale, on the transform or at the top of the file"
        )
    );
    assert_eq!(
        field("{ rule = \"decimal\", locale = \"fr\", currency = \"EURO\" }"),
        format!("{at}transform \"decimal\": \"EURO\" is not an ISO 4217 currency code")
    );
    assert_eq!(
        field("{ rule = \"date\", format = \"dd/mm/yy\", pivot = 150 }"),
        format!(
            "{at}transform \"date\": \"pivot\" must be an integer from 0 to 100 (two-digit years below it are 20xx)"
        )
    );
    assert_eq!(
        field("{ rule = \"phone\", country = \"FR\", vanity = \"yes\" }"),
        format!("{at}transform \"phone\": \"vanity\" must be true or false")
    );
    assert_eq!(
        field("{ rule = \"decimal\", locale = \"fr\", precision = 2 }"),
        format!("{at}transform \"decimal\": unknown key \"precision\"")
    );
    assert_eq!(
        field("\"phone\""),
        format!(
            "{at}transform \"phone\": needs a country, on the transform or at the top of the file"
        )
    );
    assert_eq!(
        field("{ rule = \"datetime\", format = \"iso\", timezone = \"Europe/Pariss\" }"),
        format!("{at}transform \"datetime\": unknown IANA time zone \"Europe/Pariss\"")
    );
    assert_eq!(
        field("{ rule = \"split\", take = \"middle\" }"),
        format!(
            "{at}transform \"split\": \"take\" must be first, last, rest, all_but_last or a 0-based index"
        )
    );
    assert_eq!(
        error(&with_fields("F = { from = [\"a\", \"b\"] }")),
        format!("{at}several \"from\" fields need a \"concat\" transform first")
    );
    assert_eq!(
        field("\"trim\", \"concat\""),
        format!("{at}\"concat\" needs several \"from\" fields and must come first")
    );
}

#[test]
fn duplicate_mappings_and_reference_cycles_are_refused() {
    let dir = std::env::temp_dir().join(format!("sluice-mappings-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let one = with_fields("");
    std::fs::write(dir.join("a.toml"), &one).expect("write");
    std::fs::write(dir.join("b.toml"), &one).expect("write");
    std::fs::write(dir.join("notes.txt"), "not a mapping").expect("write");
    let msg = MappingSet::load_dir(&dir).unwrap_err().to_string();
    std::fs::remove_dir_all(&dir).ok();
    assert_eq!(
        msg,
        "source \"erp-x\", object \"Contact\" is mapped twice (a.toml and b.toml)"
    );

    let cycle = r#"
        source = "s"
        [objects.A]
        external_id = "K"
        fields = { K = { from = "k" } }
        references = { B__r = { object = "B", field = "K", from = "b" } }
        [objects.B]
        external_id = "K"
        fields = { K = { from = "k" } }
        references = { A__r = { object = "A", field = "K", from = "a" } }
    "#;
    assert_eq!(
        error(cycle),
        "references form a cycle, so no push order exists: A -> B -> A"
    );
}

#[test]
fn push_order_puts_parents_first_and_ignores_self_references() {
    let set = MappingSet::from_toml_str(
        "t.toml",
        r#"
        source = "s"
        [objects.Invoice__c]
        external_id = "K"
        fields = { K = { from = "k" } }
        references = { Contact__r = { object = "Contact", field = "K", from = "c" } }
        [objects.Contact]
        external_id = "K"
        fields = { K = { from = "k" } }
        references = { Account = { object = "Account", field = "K", from = "a" } }
        [objects.Account]
        external_id = "K"
        fields = { K = { from = "k" } }
        references = { Parent = { object = "Account", field = "K", from = "p" } }
        "#,
    )
    .expect("loads");
    assert_eq!(set.objects(), ["Account", "Contact", "Invoice__c"]);
}
