//! OpenAPI schemas of the string-shaped types, whose serde form is a checked string.

use crate::{AreaCode, Date, Period};
use utoipa::openapi::schema::{ObjectBuilder, Schema, SchemaFormat, Type};
use utoipa::openapi::RefOr;
use utoipa::{PartialSchema, ToSchema};

fn string(pattern: Option<&str>, description: &str, example: &str) -> RefOr<Schema> {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .pattern(pattern)
        .description(Some(description))
        .examples([serde_json::Value::from(example)])
        .into()
}

impl PartialSchema for AreaCode {
    fn schema() -> RefOr<Schema> {
        string(
            Some(r"^[0-9]{6}([0-9]{3}){0,2}$"),
            "GB/T 2260 area code (6 digits), or its 9/12-digit town/village extension",
            "440300",
        )
    }
}
impl ToSchema for AreaCode {}

impl PartialSchema for Period {
    fn schema() -> RefOr<Schema> {
        string(
            None,
            "A period: year `2024`, quarter `2024Q1`, month `202403`, ISO week `2024W05` or day `20240203`",
            "2024",
        )
    }
}
impl ToSchema for Period {}

impl PartialSchema for Date {
    fn schema() -> RefOr<Schema> {
        ObjectBuilder::new()
            .schema_type(Type::String)
            .format(Some(SchemaFormat::KnownFormat(
                utoipa::openapi::KnownFormat::Date,
            )))
            .examples([serde_json::Value::from("2027-01-31")])
            .into()
    }
}
impl ToSchema for Date {}
