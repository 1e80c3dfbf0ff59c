//! Table column definitions: the name, type, format, description and
//! priority upstream's printers declare for each column.

use ironclad_api::schema::Schemas;
use serde_json::{Value, json};

/// `ObjectMeta`'s definition, where NAME and AGE take their descriptions.
pub(crate) const OBJECT_META: &str = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";

/// A definition name in the core/v1 group (`core("PodSpec")`).
pub(crate) fn core(type_name: &str) -> String {
    format!("io.k8s.api.core.v1.{type_name}")
}

/// One column of a table.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Column {
    name: &'static str,
    ty: &'static str,
    format: &'static str,
    description: String,
    priority: i32,
}

impl Column {
    /// A column shown by default.
    pub(crate) fn new(name: &'static str, ty: &'static str, description: String) -> Self {
        Column {
            name,
            ty,
            format: "",
            description,
            priority: 0,
        }
    }

    /// Shown only with `-o wide` (priority 1).
    pub(crate) fn wide(mut self) -> Self {
        self.priority = 1;
        self
    }

    /// Sets the format (`name` for the column holding the object's name).
    pub(crate) fn format(mut self, format: &'static str) -> Self {
        self.format = format;
        self
    }

    /// The `TableColumnDefinition` JSON.
    pub(crate) fn to_json(&self) -> Value {
        json!({
            "name": self.name,
            "type": self.ty,
            "format": self.format,
            "description": self.description,
            "priority": self.priority,
        })
    }
}

/// The API documentation of one field of a definition: upstream describes
/// most columns with the `SwaggerDoc` of the field they show, which is the
/// text the OpenAPI schema carries. Upstream takes a few from older API
/// versions (extensions/v1beta1, ...); their v1 text stands in.
pub(crate) fn doc(definition: &str, field: &str) -> String {
    Schemas::get()
        .definition(definition)
        .and_then(|d| d.get("properties"))
        .and_then(|p| p.get(field))
        .and_then(|f| f.get("description"))
        .and_then(Value::as_str)
        .unwrap_or_default()
        .to_string()
}

/// NAME, with format `name`.
pub(crate) fn name() -> Column {
    Column::new("Name", "string", doc(OBJECT_META, "name")).format("name")
}

/// AGE: time since creation.
pub(crate) fn age() -> Column {
    Column::new("Age", "string", doc(OBJECT_META, "creationTimestamp"))
}

/// A column described by fixed text (upstream's own words).
pub(crate) fn text(name: &'static str, ty: &'static str, description: &str) -> Column {
    Column::new(name, ty, description.to_string())
}

/// The wide CONTAINERS and IMAGES columns of workload kinds.
pub(crate) fn containers_and_images() -> [Column; 2] {
    [
        text(
            "Containers",
            "string",
            "Names of each container in the template.",
        )
        .wide(),
        text(
            "Images",
            "string",
            "Images referenced by each container in the template.",
        )
        .wide(),
    ]
}
