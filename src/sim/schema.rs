//! The simulated org's objects, one table-like definition each, shaped like describe (docs/salesforce.md §9).

use serde_json::{Value, json};

use super::setup::Setup;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FieldType {
    Id,
    String,
    Textarea,
    Phone,
    Url,
    Email,
    Picklist,
    Date,
    DateTime,
    Currency,
    Reference,
    Boolean,
}

impl FieldType {
    pub fn describe_name(self) -> &'static str {
        match self {
            Self::Id => "id",
            Self::String => "string",
            Self::Textarea => "textarea",
            Self::Phone => "phone",
            Self::Url => "url",
            Self::Email => "email",
            Self::Picklist => "picklist",
            Self::Date => "date",
            Self::DateTime => "datetime",
            Self::Currency => "currency",
            Self::Reference => "reference",
            Self::Boolean => "boolean",
        }
    }
}

#[derive(Debug, Clone, Copy)]
pub struct Field {
    pub name: &'static str,
    pub label: &'static str,
    pub ty: FieldType,
    pub length: u32,
    pub precision: u32,
    pub scale: u32,
    pub nillable: bool,
    pub createable: bool,
    pub updateable: bool,
    pub defaulted_on_create: bool,
    pub external_id: bool,
    pub id_lookup: bool,
    pub unique: bool,
    pub picklist: &'static [&'static str],
    pub restricted: bool,
    pub reference_to: Option<&'static str>,
    pub relationship_name: Option<&'static str>,
}

const fn field(name: &'static str, label: &'static str, ty: FieldType, length: u32) -> Field {
    Field {
        name,
        label,
        ty,
        length,
        precision: 0,
        scale: 0,
        nillable: true,
        createable: true,
        updateable: true,
        defaulted_on_create: false,
        external_id: false,
        id_lookup: false,
        unique: false,
        picklist: &[],
        restricted: false,
        reference_to: None,
        relationship_name: None,
    }
}

const fn text(name: &'static str, label: &'static str, length: u32) -> Field {
    field(name, label, FieldType::String, length)
}

const fn typed(name: &'static str, label: &'static str, ty: FieldType) -> Field {
    let length = match ty {
        FieldType::Phone => 40,
        FieldType::Url => 255,
        FieldType::Email => 80,
        FieldType::Reference | FieldType::Id => 18,
        _ => 0,
    };
    field(name, label, ty, length)
}

const fn picklist(
    name: &'static str,
    label: &'static str,
    values: &'static [&'static str],
) -> Field {
    let mut f = field(name, label, FieldType::Picklist, 255);
    f.picklist = values;
    f
}

const fn restricted(f: Field) -> Field {
    let mut f = f;
    f.restricted = true;
    f
}

const fn required(f: Field) -> Field {
    let mut f = f;
    f.nillable = false;
    f
}

const fn external_id(f: Field) -> Field {
    let mut f = f;
    f.external_id = true;
    f.id_lookup = true;
    f.unique = true;
    f
}

const fn lookup(
    name: &'static str,
    label: &'static str,
    to: &'static str,
    rel: &'static str,
) -> Field {
    let mut f = typed(name, label, FieldType::Reference);
    f.reference_to = Some(to);
    f.relationship_name = Some(rel);
    f
}

const fn currency(name: &'static str, label: &'static str, precision: u32, scale: u32) -> Field {
    let mut f = field(name, label, FieldType::Currency, 0);
    f.precision = precision;
    f.scale = scale;
    f
}

const fn system(name: &'static str, label: &'static str, ty: FieldType) -> Field {
    let mut f = typed(name, label, ty);
    f.nillable = false;
    f.createable = false;
    f.updateable = false;
    f.defaulted_on_create = true;
    if matches!(ty, FieldType::Id) {
        f.id_lookup = true;
    }
    f
}

/// Every record carries these; `IsDeleted` is only ever true in the recycle bin, which `queryAll`
/// reads (<https://developer.salesforce.com/docs/atlas.en-us.api_rest.meta/api_rest/resources_queryall.htm>).
const SYSTEM_FIELDS: [Field; 5] = [
    system("Id", "Record ID", FieldType::Id),
    system("CreatedDate", "Created Date", FieldType::DateTime),
    system(
        "LastModifiedDate",
        "Last Modified Date",
        FieldType::DateTime,
    ),
    system("SystemModstamp", "System Modstamp", FieldType::DateTime),
    system("IsDeleted", "Deleted", FieldType::Boolean),
];

/// [UNVERIFIED] A reasonable subset of the ISO 3166 codes an org with State and Country Picklists has.
const COUNTRY_CODES: &[&str] = &[
    "AT", "AU", "BE", "BR", "CA", "CH", "CN", "CZ", "DE", "DK", "ES", "FI", "FR", "GB", "GR", "HU",
    "IE", "IN", "IT", "JP", "KR", "LU", "MX", "NL", "NO", "NZ", "PL", "PT", "RO", "SE", "SG", "US",
    "ZA",
];
const INDUSTRIES: &[&str] = &[
    "Agriculture",
    "Apparel",
    "Banking",
    "Biotechnology",
    "Chemicals",
    "Communications",
    "Construction",
    "Consulting",
    "Education",
    "Electronics",
    "Energy",
    "Engineering",
    "Entertainment",
    "Environmental",
    "Finance",
    "Food & Beverage",
    "Government",
    "Healthcare",
    "Hospitality",
    "Insurance",
    "Machinery",
    "Manufacturing",
    "Media",
    "Not For Profit",
    "Recreation",
    "Retail",
    "Shipping",
    "Technology",
    "Telecommunications",
    "Transportation",
    "Utilities",
    "Other",
];
const LEAD_SOURCES: &[&str] = &[
    "Web",
    "Phone Inquiry",
    "Partner Referral",
    "Purchased List",
    "Other",
];
const CURRENCIES: &[&str] = &[
    "EUR", "USD", "GBP", "CHF", "JPY", "CAD", "AUD", "SEK", "DKK", "NOK",
];
const INVOICE_STATUSES: &[&str] = &["Draft", "Sent", "Paid", "Cancelled"];

const ACCOUNT_FIELDS: &[Field] = &[
    SYSTEM_FIELDS[0],
    {
        let mut f = required(text("Name", "Account Name", 255));
        f.id_lookup = true;
        f
    },
    text("AccountNumber", "Account Number", 40),
    typed("Phone", "Account Phone", FieldType::Phone),
    typed("Website", "Website", FieldType::Url),
    picklist("Industry", "Industry", INDUSTRIES),
    field("BillingStreet", "Billing Street", FieldType::Textarea, 255),
    text("BillingCity", "Billing City", 40),
    text("BillingPostalCode", "Billing Zip/Postal Code", 20),
    text("BillingCountry", "Billing Country", 80),
    restricted(picklist(
        "BillingCountryCode",
        "Billing Country Code",
        COUNTRY_CODES,
    )),
    external_id(text("External_Id__c", "External Id", 64)),
    SYSTEM_FIELDS[1],
    SYSTEM_FIELDS[2],
    SYSTEM_FIELDS[3],
    SYSTEM_FIELDS[4],
];

const CONTACT_FIELDS: &[Field] = &[
    SYSTEM_FIELDS[0],
    text("FirstName", "First Name", 40),
    required(text("LastName", "Last Name", 80)),
    {
        let mut f = typed("Email", "Email", FieldType::Email);
        f.id_lookup = true;
        f
    },
    typed("Phone", "Business Phone", FieldType::Phone),
    typed("MobilePhone", "Mobile Phone", FieldType::Phone),
    typed("Birthdate", "Birthdate", FieldType::Date),
    lookup("AccountId", "Account ID", "Account", "Account"),
    restricted(picklist(
        "MailingCountryCode",
        "Mailing Country Code",
        COUNTRY_CODES,
    )),
    picklist("LeadSource", "Lead Source", LEAD_SOURCES),
    external_id(text("External_Id__c", "External Id", 64)),
    SYSTEM_FIELDS[1],
    SYSTEM_FIELDS[2],
    SYSTEM_FIELDS[3],
    SYSTEM_FIELDS[4],
];

const INVOICE_FIELDS: &[Field] = &[
    SYSTEM_FIELDS[0],
    {
        // [UNVERIFIED] A custom object's text Name is required but defaulted (to the record id) on create.
        let mut f = required(text("Name", "Invoice Name", 80));
        f.defaulted_on_create = true;
        f.id_lookup = true;
        f
    },
    external_id(text("Invoice_Number__c", "Invoice Number", 40)),
    currency("Amount__c", "Amount", 16, 2),
    picklist("Currency__c", "Currency", CURRENCIES),
    restricted(picklist("Status__c", "Status", INVOICE_STATUSES)),
    typed("Issue_Date__c", "Issue Date", FieldType::Date),
    typed("Due_Date__c", "Due Date", FieldType::Date),
    lookup("Contact__c", "Contact", "Contact", "Contact__r"),
    lookup("Account__c", "Account", "Account", "Account__r"),
    SYSTEM_FIELDS[1],
    SYSTEM_FIELDS[2],
    SYSTEM_FIELDS[3],
    SYSTEM_FIELDS[4],
];

#[derive(Debug)]
pub struct Object {
    pub name: &'static str,
    pub label: &'static str,
    pub key_prefix: &'static str,
    pub custom: bool,
    pub fields: &'static [Field],
}

pub static OBJECTS: [Object; 3] = [
    Object {
        name: "Account",
        label: "Account",
        key_prefix: "001",
        custom: false,
        fields: ACCOUNT_FIELDS,
    },
    Object {
        name: "Contact",
        label: "Contact",
        key_prefix: "003",
        custom: false,
        fields: CONTACT_FIELDS,
    },
    Object {
        name: "Invoice__c",
        label: "Invoice",
        key_prefix: "a0X",
        custom: true,
        fields: INVOICE_FIELDS,
    },
];

/// Object and field names are case-insensitive in the API; results use the canonical spelling.
pub fn object(name: &str) -> Option<&'static Object> {
    OBJECTS.iter().find(|o| o.name.eq_ignore_ascii_case(name))
}

pub fn object_by_prefix(id: &str) -> Option<&'static Object> {
    OBJECTS.iter().find(|o| id.starts_with(o.key_prefix))
}

impl Object {
    pub fn field(&self, name: &str) -> Option<&'static Field> {
        self.fields
            .iter()
            .find(|f| f.name.eq_ignore_ascii_case(name))
    }

    pub fn relationship(&self, name: &str) -> Option<&'static Field> {
        self.fields.iter().find(|f| {
            f.relationship_name
                .is_some_and(|r| r.eq_ignore_ascii_case(name))
        })
    }

    pub fn lookup_fields(&self) -> impl Iterator<Item = &'static Field> + use<> {
        self.fields
            .iter()
            .filter(|f| (f.external_id || f.id_lookup) && f.ty != FieldType::Id)
    }

    /// The describe answer, with the picklist values as Setup has them now.
    pub fn describe(&self, setup: &Setup) -> Value {
        let fields: Vec<Value> = self
            .fields
            .iter()
            .map(|f| f.describe(&setup.picklist(self, f)))
            .collect();
        json!({
            "name": self.name, "label": self.label, "labelPlural": format!("{}s", self.label),
            "keyPrefix": self.key_prefix, "custom": self.custom, "createable": true,
            "updateable": true, "deletable": true, "queryable": true, "retrieveable": true,
            "fields": fields, "childRelationships": [], "recordTypeInfos": [],
            "urls": {
                "sobject": format!("/services/data/v{}/sobjects/{}", super::rest::LATEST_VERSION, self.name),
                "describe": format!("/services/data/v{}/sobjects/{}/describe", super::rest::LATEST_VERSION, self.name),
            },
        })
    }
}

impl Field {
    pub fn is_required_on_create(&self) -> bool {
        self.createable && !self.nillable && !self.defaulted_on_create
    }

    fn describe(&self, picklist: &[(String, bool)]) -> Value {
        let picklist: Vec<Value> = picklist
            .iter()
            .map(|(v, active)| json!({"active": active, "defaultValue": false, "label": v, "validFor": null, "value": v}))
            .collect();
        json!({
            "name": self.name, "label": self.label, "type": self.ty.describe_name(),
            "length": self.length, "byteLength": self.length * 3, "precision": self.precision,
            "scale": self.scale, "digits": 0, "nillable": self.nillable,
            "createable": self.createable, "updateable": self.updateable,
            "defaultedOnCreate": self.defaulted_on_create, "externalId": self.external_id,
            "idLookup": self.id_lookup, "unique": self.unique, "caseSensitive": false,
            "picklistValues": picklist, "restrictedPicklist": self.restricted,
            "dependentPicklist": false, "controllerName": null,
            "referenceTo": self.reference_to.map(|r| vec![r]).unwrap_or_default(),
            "relationshipName": self.relationship_name, "calculated": false, "autoNumber": false,
            "custom": self.name.ends_with("__c"),
        })
    }
}
