//! The SQL behind [`Departments`]: variant names of departments (aliases), merged into the
//! department they name by an admin; every merge audited.

use super::sql::{audit, check_actor};
use super::Backend;
use crate::error::{Result, StoreError};
use crate::model::AuditAction;
use crate::Departments;
use healthplan_access::RegistryAdmin;
use serde_json::json;
use sqlx::Row;

const ENTITY: &str = "department_alias";

impl Departments for Backend {
    async fn list_department_aliases(&self) -> Result<Vec<(String, String)>> {
        let rows = sqlx::query("SELECT alias, department FROM department_aliases ORDER BY alias")
            .fetch_all(&self.pool)
            .await?;
        rows.iter()
            .map(|r| Ok((r.try_get("alias")?, r.try_get("department")?)))
            .collect()
    }

    async fn merge_department(
        &self,
        by: &RegistryAdmin,
        variant: &str,
        department: &str,
    ) -> Result<()> {
        let actor = by.actor();
        check_actor(actor)?;
        let (variant, department) = (variant.trim(), department.trim());
        for (field, name) in [("variant", variant), ("department", department)] {
            healthplan_core::validate::check_name(field, name)?;
        }
        if variant == department {
            return Err(StoreError::Invalid(
                "a department cannot be an alias of itself / 部门不能合并到其自身".into(),
            ));
        }
        let mut tx = self.begin_write().await?;
        // The department may itself be a variant: merge into what it names.
        let target: Option<String> =
            sqlx::query_scalar("SELECT department FROM department_aliases WHERE alias = $1")
                .bind(department)
                .fetch_optional(&mut *tx)
                .await?;
        let department = target.unwrap_or_else(|| department.to_string());
        if department == variant {
            return Err(StoreError::Invalid(
                "the department is already an alias of this variant / 该部门已是此名称的别名"
                    .into(),
            ));
        }
        let before: Option<String> =
            sqlx::query_scalar("SELECT department FROM department_aliases WHERE alias = $1")
                .bind(variant)
                .fetch_optional(&mut *tx)
                .await?;
        sqlx::query(
            "INSERT INTO department_aliases (alias, department) VALUES ($1, $2)
             ON CONFLICT (alias) DO UPDATE SET department = excluded.department",
        )
        .bind(variant)
        .bind(&department)
        .execute(&mut *tx)
        .await?;
        // Variants of the variant follow it.
        sqlx::query("UPDATE department_aliases SET department = $1 WHERE department = $2")
            .bind(&department)
            .bind(variant)
            .execute(&mut *tx)
            .await?;
        // The variant's registered rows become the department's (one per area).
        sqlx::query(
            "INSERT INTO departments (area_code, name)
             SELECT area_code, $1 FROM departments WHERE name = $2
             ON CONFLICT (area_code, name) DO NOTHING",
        )
        .bind(&department)
        .bind(variant)
        .execute(&mut *tx)
        .await?;
        sqlx::query("DELETE FROM departments WHERE name = $1")
            .bind(variant)
            .execute(&mut *tx)
            .await?;
        audit(
            &mut tx,
            actor,
            ENTITY,
            variant,
            if before.is_some() {
                AuditAction::Update
            } else {
                AuditAction::Insert
            },
            before.map(|d| json!({"department": d})).as_ref(),
            Some(&json!({"department": department})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }
}
