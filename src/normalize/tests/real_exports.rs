//! What real exports carry, through a whole mapping: invisible characters, field names with a
//! byte-order mark, the clean step's opt-outs, file-wide locale and e-mail settings, cross-field
//! rules, and describe problems named by the sender's field.

use serde_json::{Value, json};

use super::{invoice, org, record};
use crate::normalize::{FieldIssue, Mapping, MappingSet, Normalized, ProblemKind};

fn mapping(top: &str, object: &str, body: &str) -> Mapping {
    let toml = format!("source = \"s\"\ncountry = \"FR\"\n{top}\n{body}");
    let set = MappingSet::from_toml_str("t.toml", &toml).expect("loads");
    set.get("s", object).expect("mapped").clone()
}

fn contact(top: &str, fields: &str) -> Mapping {
    mapping(
        top,
        "Contact",
        &format!(
            "[objects.Contact]\nexternal_id = \"External_Id__c\"\n[objects.Contact.fields]\n\
             External_Id__c = {{ from = \"code\" }}\n{fields}"
        ),
    )
}

fn issues(m: &Mapping, input: Value) -> Vec<(String, Option<String>, String)> {
    m.normalize(&record(input))
        .issues
        .into_iter()
        .map(|i| (i.field, i.salesforce_field, i.rule))
        .collect()
}

fn s(v: &str) -> String {
    v.to_owned()
}

#[test]
fn invisible_characters_are_cleaned_before_any_rule_and_nothing_left_is_empty() {
    let m = contact(
        "",
        "LastName = { from = \"nom\", required = true }\nEmail = { from = \"mail\", transforms = [\"email\"] }",
    );
    let out = m.normalize(&record(json!({
        "code": "\u{feff}C-001\u{200b}", "nom": "Du\u{2060}pont\u{a0} ", "mail": "JEAN\u{200d}@EXEMPLE.FR"
    })));
    assert_eq!(
        out,
        Normalized {
            fields: record(
                json!({"External_Id__c": "C-001", "LastName": "Dupont", "Email": "jean@exemple.fr"})
            ),
            issues: vec![],
        }
    );
    assert_eq!(
        issues(&m, json!({"code": "C-2", "nom": "\u{200b}\u{feff} \u{a0}"})),
        [(s("nom"), Some(s("LastName")), s("required"))]
    );
}

#[test]
fn a_field_can_keep_its_lines_or_its_raw_bytes() {
    let m = contact(
        "",
        "Street = { from = \"adresse\", clean = \"lines\" }\nRaw = { from = \"brut\", clean = false }",
    );
    let out = m
        .apply(&record(json!({
            "code": "C-1", "adresse": " 12  rue\u{a0}X \r\n\r\nBât.\u{200b} B ", "brut": " a\u{200b} "
        })))
        .unwrap();
    assert_eq!(out["Street"], json!("12 rue X\nBât. B"));
    assert_eq!(out["Raw"], json!(" a\u{200b} "));
}

#[test]
fn field_names_carrying_a_byte_order_mark_still_match() {
    let m = contact("", "LastName = { from = \"nom\" }");
    let out = m
        .apply(&record(
            json!({"\u{feff}code": "C-1", "nom\u{200b}": "Martin"}),
        ))
        .unwrap();
    assert_eq!(
        out,
        record(json!({"External_Id__c": "C-1", "LastName": "Martin"}))
    );
}

#[test]
fn the_files_locale_reads_month_names_and_amounts() {
    let m = mapping(
        "locale = \"de\"",
        "Invoice__c",
        r#"[objects.Invoice__c]
external_id = "Invoice_Number__c"
[objects.Invoice__c.fields]
Invoice_Number__c = { from = "nr" }
Issue_Date__c = { from = "datum", transforms = [{ rule = "date", format = ["dd. MMMM yyyy", "dd.mm.yy"] }] }
Amount__c = { from = "betrag", transforms = [{ rule = "decimal", scale = 2, currency = "EUR" }] }
"#,
    );
    let out = |datum: &str, betrag: Value| {
        m.apply(&record(
            json!({"nr": "R-1", "datum": datum, "betrag": betrag}),
        ))
    };
    assert_eq!(
        out("3. März 2026", json!("1.234,56 €")).unwrap(),
        record(
            json!({"Invoice_Number__c": "R-1", "Issue_Date__c": "2026-03-03", "Amount__c": 1234.56})
        )
    );
    assert_eq!(
        out("03.03.26", json!(1234.5)).unwrap()["Amount__c"],
        json!(1234.5),
        "a JSON number is taken as it is"
    );
    let refused = out("31. April 2026", json!("12 $")).unwrap_err();
    let messages: Vec<&str> = refused.iter().map(|i| i.message.as_str()).collect();
    assert_eq!(
        messages,
        [
            "\"12 $\" is in $, but this field takes EUR",
            "\"31. April 2026\" is not a real calendar date",
        ]
    );
}

#[test]
fn phones_with_letters_are_refused_unless_vanity_numbers_are_asked_for() {
    let m = contact(
        "",
        "Phone = { from = \"tel\", transforms = [\"phone\"] }\nMobilePhone = { from = \"vanity\", transforms = [{ rule = \"phone\", country = \"US\", vanity = true }] }",
    );
    assert_eq!(
        issues(&m, json!({"code": "C-1", "tel": "02 29 50 33 l5"})),
        [(s("tel"), Some(s("Phone")), s("phone"))]
    );
    assert_eq!(
        m.apply(&record(json!({"code": "C-1", "vanity": "1-800-FLOWERS"})))
            .unwrap()["MobilePhone"],
        json!("+18003569377")
    );
}

#[test]
fn internationalized_email_is_a_setting_of_the_file() {
    let field = "Email = { from = \"mail\", transforms = [\"email\"] }";
    let ascii = contact("", field);
    let eai = contact("internationalized_email = true", field);
    let input = json!({"code": "C-1", "mail": "José@Exemple.fr"});
    assert_eq!(
        issues(&ascii, input.clone()),
        [(s("mail"), Some(s("Email")), s("email"))]
    );
    assert_eq!(
        eai.apply(&record(input)).unwrap()["Email"],
        json!("josé@exemple.fr")
    );
    // The describe check follows the same setting.
    let mut normalized = Normalized {
        fields: record(
            json!({"External_Id__c": "C-1", "LastName": "D", "Email": "josé@exemple.fr"}),
        ),
        issues: vec![],
    };
    eai.check_describe(&org()["Contact"], &mut normalized, true);
    assert_eq!(normalized.issues, []);
    ascii.check_describe(&org()["Contact"], &mut normalized, true);
    assert_eq!(normalized.issues[0].rule, "email");
}

#[test]
fn value_maps_ignore_case_accents_and_spaces_unless_exact() {
    let m = mapping(
        "",
        "Invoice__c",
        r#"[objects.Invoice__c]
external_id = "Invoice_Number__c"
[objects.Invoice__c.fields]
Invoice_Number__c = { from = "n" }
Status__c = { from = "statut", transforms = [{ rule = "map", values = { "Résilié" = "Cancelled", "Payée" = "Paid" } }] }
Currency__c = { from = "devise", transforms = [{ rule = "map", exact = true, values = { "EUR" = "EUR" } }] }
"#,
    );
    for statut in ["Résilié", "RESILIE", "resilie ", "re\u{301}silie\u{301}"] {
        let out = m
            .apply(&record(json!({"n": "F-1", "statut": statut})))
            .unwrap();
        assert_eq!(out["Status__c"], json!("Cancelled"), "{statut}");
    }
    assert_eq!(
        issues(&m, json!({"n": "F-1", "devise": "eur"})),
        [(s("devise"), Some(s("Currency__c")), s("map"))]
    );
}

fn invoice_with_rules(rules: &str) -> Mapping {
    mapping("", "Invoice__c", &invoice_toml(rules))
}

fn invoice_toml(rules: &str) -> String {
    format!(
        r#"[objects.Invoice__c]
external_id = "Invoice_Number__c"
[objects.Invoice__c.fields]
Invoice_Number__c = {{ from = "n" }}
Amount__c = {{ from = "montant", transforms = [{{ rule = "decimal", locale = "fr" }}] }}
Issue_Date__c = {{ from = "emise", transforms = [{{ rule = "date", format = "dd/mm/yyyy" }}] }}
Due_Date__c = {{ from = "echeance", transforms = [{{ rule = "date", format = "dd/mm/yyyy" }}] }}
{rules}"#
    )
}

#[test]
fn cross_field_rules_refuse_with_their_message_on_the_senders_field() {
    let m = invoice_with_rules(
        r#"[objects.Invoice__c.rules.due_after_issue]
check = "Due_Date__c >= Issue_Date__c"
message = "The due date cannot be before the invoice date"
[objects.Invoice__c.rules.positive]
check = "Amount__c > 0"
message = "An invoice amount is positive"
"#,
    );
    let out = m.normalize(&record(json!({
        "n": "F-1", "montant": "-5", "emise": "10/03/2026", "echeance": "01/03/2026"
    })));
    assert_eq!(
        out.issues,
        [
            FieldIssue::new(
                "echeance",
                "validation_rule",
                "The due date cannot be before the invoice date"
            )
            .on("Due_Date__c")
            .with_code("FIELD_CUSTOM_VALIDATION_EXCEPTION"),
            FieldIssue::new(
                "montant",
                "validation_rule",
                "An invoice amount is positive"
            )
            .on("Amount__c")
            .with_code("FIELD_CUSTOM_VALIDATION_EXCEPTION"),
        ]
    );
    // A rule is not checked on a field that has no value or was refused for its own reason.
    let out = m.normalize(&record(
        json!({"n": "F-2", "montant": "12,5", "echeance": "31/02/2026"}),
    ));
    let rules: Vec<&str> = out.issues.iter().map(|i| i.rule.as_str()).collect();
    assert_eq!(rules, ["date"]);
}

#[test]
fn rules_comparing_what_can_never_compare_fail_at_start_up() {
    let toml = invoice_toml(
        "[objects.Invoice__c.rules.odd]\ncheck = \"Amount__c > Issue_Date__c\"\nmessage = \"x\"",
    );
    let set = MappingSet::from_toml_str("t.toml", &format!("source = \"s\"\n{toml}")).unwrap();
    let problems = set.check_against(&org()).unwrap_err();
    assert_eq!(
        problems.iter().map(|p| p.kind.clone()).collect::<Vec<_>>(),
        [ProblemKind::RuleTypes(
            "rule odd compares Amount__c (a number) with Issue_Date__c (text)".into()
        )]
    );
}

#[test]
fn describe_problems_join_the_mappings_named_by_the_senders_field() {
    let m = invoice_with_rules("Status__c = { from = \"statut\" }");
    let mut out = m.normalize(&record(json!({
        "n": "F-1", "montant": "1,2,3", "statut": "paid", "emise": "01/01/2026"
    })));
    m.check_describe(&invoice(), &mut out, true);
    let found: Vec<(&str, Option<&str>, &str)> = out
        .issues
        .iter()
        .map(|i| {
            (
                i.field.as_str(),
                i.salesforce_field.as_deref(),
                i.rule.as_str(),
            )
        })
        .collect();
    assert_eq!(
        found,
        [
            ("montant", Some("Amount__c"), "decimal"),
            ("statut", Some("Status__c"), "picklist"),
        ]
    );
}
