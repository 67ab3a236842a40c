//! The SQL behind [`Accounts`]: users and grants, sessions, API tokens, sign-in throttling.
//! Compiled into each backend beside sql.rs. Authentication events (sign-in, failure,
//! sign-out, token use) are audit rows of entity `auth`.

use super::sql::{audit, check_actor, enum_str, parse_code, parse_enum, to_json, Tx};
use super::{Backend, Db};
use crate::error::{is_foreign_key_violation, is_unique_violation, Result, StoreError};
use crate::model::{ApiToken, AuditAction, SessionRow, Throttle};
use crate::{now_utc, Accounts};
use healthplan_access::{SelfService, UserAdmin};
use healthplan_core::{Grant, User};
use serde_json::{json, Value as JsonValue};
use sqlx::types::Json;
use sqlx::Row;

async fn fetch_user(
    ex: &mut <Db as sqlx::Database>::Connection,
    username: &str,
) -> Result<Option<User>> {
    let Some(row) =
        sqlx::query("SELECT username, display_name, disabled FROM users WHERE username = $1")
            .bind(username)
            .fetch_optional(&mut *ex)
            .await?
    else {
        return Ok(None);
    };
    let username: String = row.try_get("username")?;
    let rows = sqlx::query(
        "SELECT role, area_code, departments FROM user_grants WHERE username = $1 ORDER BY id",
    )
    .bind(&username)
    .fetch_all(&mut *ex)
    .await?;
    let mut grants = Vec::with_capacity(rows.len());
    for r in &rows {
        let role: String = r.try_get("role")?;
        let area: String = r.try_get("area_code")?;
        let Json(departments): Json<Vec<String>> = r.try_get("departments")?;
        grants.push(Grant {
            role: parse_enum("user", &username, &role)?,
            area: parse_code("user", &username, &area)?,
            departments,
        });
    }
    Ok(Some(User {
        display_name: row.try_get("display_name")?,
        disabled: row.try_get("disabled")?,
        username,
        grants,
    }))
}

async fn insert_grants(tx: &mut Tx, user: &User) -> Result<()> {
    for g in &user.grants {
        sqlx::query(
            "INSERT INTO user_grants (username, role, area_code, departments) VALUES ($1, $2, $3, $4)",
        )
        .bind(&user.username)
        .bind(enum_str(&g.role))
        .bind(g.area.as_str())
        .bind(Json(&g.departments))
        .execute(&mut **tx)
        .await
        .map_err(|e| {
            if is_foreign_key_violation(&e) {
                StoreError::Invalid(format!(
                    "user {}: grant area {} is not a known area",
                    user.username, g.area
                ))
            } else {
                e.into()
            }
        })?;
    }
    Ok(())
}

fn user_audit_json(user: &User, has_password: bool) -> JsonValue {
    let mut v = to_json(user);
    if let JsonValue::Object(m) = &mut v {
        // The hash itself never goes into the log.
        m.insert("has_password".into(), JsonValue::Bool(has_password));
    }
    v
}

fn user_not_found(username: &str) -> StoreError {
    StoreError::NotFound {
        entity: "user",
        key: username.to_string(),
    }
}

/// An authentication event in the audit log.
async fn auth_event(tx: &mut Tx, actor: &str, key: &str, detail: JsonValue) -> Result<()> {
    audit(
        tx,
        actor,
        "auth",
        key,
        AuditAction::Insert,
        None,
        Some(&detail),
    )
    .await
}

async fn set_password(tx: &mut Tx, actor: &str, username: &str, hash: &str) -> Result<()> {
    let done = sqlx::query("UPDATE users SET password_hash = $1 WHERE username = $2")
        .bind(hash)
        .bind(username)
        .execute(&mut **tx)
        .await?;
    if done.rows_affected() != 1 {
        return Err(user_not_found(username));
    }
    // Every other session of the account ends with the old password.
    sqlx::query("DELETE FROM sessions WHERE username = $1")
        .bind(username)
        .execute(&mut **tx)
        .await?;
    auth_event(tx, actor, username, json!({"event": "password_changed"})).await
}

fn row_to_token(r: &<Db as sqlx::Database>::Row) -> Result<ApiToken> {
    Ok(ApiToken {
        id: r.try_get("id")?,
        username: r.try_get("username")?,
        name: r.try_get("name")?,
        created_at: r.try_get("created_at")?,
        last_used_at: r.try_get("last_used_at")?,
        revoked_at: r.try_get("revoked_at")?,
    })
}

const TOKEN_COLUMNS: &str = "id, username, name, created_at, last_used_at, revoked_at";

async fn insert_token(
    tx: &mut Tx,
    actor: &str,
    username: &str,
    name: &str,
    hash: &str,
) -> Result<ApiToken> {
    healthplan_core::validate::check_name("name", name)?;
    let name = name.trim();
    if name.is_empty() || name.chars().count() > 100 {
        return Err(StoreError::Invalid(
            "a token needs a name of 1–100 characters / 令牌名称须为1–100个字符".into(),
        ));
    }
    let now = now_utc();
    let id: i64 = sqlx::query_scalar(
        "INSERT INTO api_tokens (username, name, token_hash, created_at) VALUES ($1, $2, $3, $4)
         RETURNING id",
    )
    .bind(username)
    .bind(name)
    .bind(hash)
    .bind(&now)
    .fetch_one(&mut **tx)
    .await
    .map_err(|e| {
        if is_foreign_key_violation(&e) {
            user_not_found(username)
        } else {
            e.into()
        }
    })?;
    let token = ApiToken {
        id,
        username: username.to_string(),
        name: name.to_string(),
        created_at: now,
        last_used_at: None,
        revoked_at: None,
    };
    audit(
        tx,
        actor,
        "api_token",
        &id.to_string(),
        AuditAction::Insert,
        None,
        Some(&to_json(&token)),
    )
    .await?;
    Ok(token)
}

impl Accounts for Backend {
    async fn create_user(
        &self,
        by: &UserAdmin,
        user: &User,
        password_hash: Option<&str>,
    ) -> Result<()> {
        let actor = by.actor();
        check_actor(actor)?;
        User::new(&user.username, &user.display_name, user.grants.clone())?;
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO users (username, display_name, password_hash, created_at, disabled)
             VALUES ($1, $2, $3, $4, $5)",
        )
        .bind(&user.username)
        .bind(&user.display_name)
        .bind(password_hash)
        .bind(now_utc())
        .bind(user.disabled)
        .execute(&mut *tx)
        .await
        .map_err(|e| {
            if is_unique_violation(&e) {
                StoreError::AlreadyExists {
                    entity: "user",
                    key: user.username.clone(),
                }
            } else {
                e.into()
            }
        })?;
        insert_grants(&mut tx, user).await?;
        let after = user_audit_json(user, password_hash.is_some());
        audit(
            &mut tx,
            actor,
            "user",
            &user.username,
            AuditAction::Insert,
            None,
            Some(&after),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn update_user(&self, by: &UserAdmin, user: &User) -> Result<()> {
        let actor = by.actor();
        check_actor(actor)?;
        User::new(&user.username, &user.display_name, user.grants.clone())?;
        let mut tx = self.begin_write().await?;
        let Some(before) = fetch_user(&mut tx, &user.username).await? else {
            return Err(user_not_found(&user.username));
        };
        let has_password: Option<String> =
            sqlx::query_scalar("SELECT password_hash FROM users WHERE username = $1")
                .bind(&user.username)
                .fetch_one(&mut *tx)
                .await?;
        sqlx::query("UPDATE users SET display_name = $1, disabled = $2 WHERE username = $3")
            .bind(&user.display_name)
            .bind(user.disabled)
            .bind(&user.username)
            .execute(&mut *tx)
            .await?;
        sqlx::query("DELETE FROM user_grants WHERE username = $1")
            .bind(&user.username)
            .execute(&mut *tx)
            .await?;
        insert_grants(&mut tx, user).await?;
        if user.disabled {
            sqlx::query("DELETE FROM sessions WHERE username = $1")
                .bind(&user.username)
                .execute(&mut *tx)
                .await?;
        }
        let has_password = has_password.is_some();
        audit(
            &mut tx,
            actor,
            "user",
            &user.username,
            AuditAction::Update,
            Some(&user_audit_json(&before, has_password)),
            Some(&user_audit_json(user, has_password)),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn reset_password(
        &self,
        by: &UserAdmin,
        username: &str,
        password_hash: &str,
    ) -> Result<()> {
        let mut tx = self.begin_write().await?;
        set_password(&mut tx, by.actor(), username, password_hash).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn change_own_password(&self, by: &SelfService, password_hash: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        set_password(&mut tx, by.actor(), by.username(), password_hash).await?;
        tx.commit().await?;
        Ok(())
    }

    async fn user(&self, username: &str) -> Result<Option<User>> {
        let mut conn = self.pool.acquire().await?;
        fetch_user(&mut conn, username).await
    }

    async fn user_password_hash(&self, username: &str) -> Result<Option<String>> {
        let row: Option<Option<String>> =
            sqlx::query_scalar("SELECT password_hash FROM users WHERE username = $1")
                .bind(username)
                .fetch_optional(&self.pool)
                .await?;
        Ok(row.flatten())
    }

    async fn list_users(&self, _by: &UserAdmin) -> Result<Vec<User>> {
        let mut conn = self.pool.acquire().await?;
        let names: Vec<String> = sqlx::query_scalar("SELECT username FROM users ORDER BY username")
            .fetch_all(&mut *conn)
            .await?;
        let mut users = Vec::with_capacity(names.len());
        for n in names {
            if let Some(u) = fetch_user(&mut conn, &n).await? {
                users.push(u);
            }
        }
        Ok(users)
    }

    async fn create_session(
        &self,
        username: &str,
        id_hash: &str,
        csrf: &str,
        client: &str,
    ) -> Result<()> {
        let now = now_utc();
        let mut tx = self.begin_write().await?;
        sqlx::query(
            "INSERT INTO sessions (id_hash, username, csrf, created_at, last_seen_at, client)
             VALUES ($1, $2, $3, $4, $4, $5)",
        )
        .bind(id_hash)
        .bind(username)
        .bind(csrf)
        .bind(&now)
        .bind(client)
        .execute(&mut *tx)
        .await?;
        auth_event(
            &mut tx,
            username,
            username,
            json!({"event": "sign_in", "client": client}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn session(&self, id_hash: &str) -> Result<Option<SessionRow>> {
        let row = sqlx::query(
            "SELECT username, csrf, created_at, last_seen_at FROM sessions WHERE id_hash = $1",
        )
        .bind(id_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.map(|r| {
            Ok(SessionRow {
                username: r.try_get("username")?,
                csrf: r.try_get("csrf")?,
                created_at: r.try_get("created_at")?,
                last_seen_at: r.try_get("last_seen_at")?,
            })
        })
        .transpose()
    }

    async fn touch_session(&self, id_hash: &str) -> Result<()> {
        sqlx::query("UPDATE sessions SET last_seen_at = $1 WHERE id_hash = $2")
            .bind(now_utc())
            .bind(id_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn end_session(&self, id_hash: &str, reason: &str) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let username: Option<String> =
            sqlx::query_scalar("DELETE FROM sessions WHERE id_hash = $1 RETURNING username")
                .bind(id_hash)
                .fetch_optional(&mut *tx)
                .await?;
        if let Some(u) = username {
            auth_event(&mut tx, &u, &u, json!({"event": reason})).await?;
        }
        tx.commit().await?;
        Ok(())
    }

    async fn create_token(
        &self,
        by: &SelfService,
        name: &str,
        token_hash: &str,
    ) -> Result<ApiToken> {
        let mut tx = self.begin_write().await?;
        let t = insert_token(&mut tx, by.actor(), by.username(), name, token_hash).await?;
        tx.commit().await?;
        Ok(t)
    }

    async fn create_token_for(
        &self,
        by: &UserAdmin,
        username: &str,
        name: &str,
        token_hash: &str,
    ) -> Result<ApiToken> {
        let mut tx = self.begin_write().await?;
        let t = insert_token(&mut tx, by.actor(), username, name, token_hash).await?;
        tx.commit().await?;
        Ok(t)
    }

    async fn list_tokens(&self, by: &SelfService) -> Result<Vec<ApiToken>> {
        let rows = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE username = $1 ORDER BY id"
        )))
        .bind(by.username())
        .fetch_all(&self.pool)
        .await?;
        rows.iter().map(row_to_token).collect()
    }

    async fn revoke_token(&self, by: &SelfService, id: i64) -> Result<()> {
        let mut tx = self.begin_write().await?;
        let done = sqlx::query(
            "UPDATE api_tokens SET revoked_at = $1
             WHERE id = $2 AND username = $3 AND revoked_at IS NULL",
        )
        .bind(now_utc())
        .bind(id)
        .bind(by.username())
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            // Someone else's token is as unknown as a missing one.
            return Err(StoreError::NotFound {
                entity: "token",
                key: id.to_string(),
            });
        }
        audit(
            &mut tx,
            by.actor(),
            "api_token",
            &id.to_string(),
            AuditAction::Update,
            None,
            Some(&json!({"revoked": true})),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn use_token(&self, token_hash: &str, client: &str) -> Result<Option<ApiToken>> {
        // A token in steady use is recorded (last use, audit row) at most once a minute, as
        // sessions refresh their idle clock: recording every call made each API request a
        // write that waited for every other write.
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1"
        )))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        if let Some(t) = row.as_ref().map(row_to_token).transpose()? {
            let recent = t
                .last_used_at
                .as_deref()
                .and_then(crate::parse_utc)
                .map(|u| jiff::Timestamp::now().duration_since(u).as_secs())
                .is_some_and(|s| (0..60).contains(&s));
            if t.revoked_at.is_none() && recent {
                return Ok(Some(t));
            }
        }
        let mut tx = self.begin_write().await?;
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_hash = $1"
        )))
        .bind(token_hash)
        .fetch_optional(&mut *tx)
        .await?;
        let Some(token) = row.as_ref().map(row_to_token).transpose()? else {
            return Ok(None);
        };
        let event = if token.revoked_at.is_some() {
            "revoked_token_refused"
        } else {
            sqlx::query("UPDATE api_tokens SET last_used_at = $1 WHERE id = $2")
                .bind(now_utc())
                .bind(token.id)
                .execute(&mut *tx)
                .await?;
            "token_use"
        };
        auth_event(
            &mut tx,
            &token.username,
            &token.username,
            json!({"event": event, "token": token.id, "client": client}),
        )
        .await?;
        tx.commit().await?;
        Ok(Some(token))
    }

    async fn sign_in_failures(&self, keys: &[String]) -> Result<Vec<Throttle>> {
        let mut out = Vec::new();
        for k in keys {
            let row = sqlx::query(
                "SELECT key, failures, last_failure_at FROM sign_in_throttle WHERE key = $1",
            )
            .bind(k)
            .fetch_optional(&self.pool)
            .await?;
            if let Some(r) = row {
                out.push(Throttle {
                    key: r.try_get("key")?,
                    failures: r.try_get("failures")?,
                    last_failure_at: r.try_get("last_failure_at")?,
                });
            }
        }
        Ok(out)
    }

    async fn record_sign_in_failure(
        &self,
        keys: &[String],
        username: &str,
        client: &str,
        reason: &str,
    ) -> Result<()> {
        let now = now_utc();
        let mut tx = self.begin_write().await?;
        for k in keys {
            sqlx::query(
                "INSERT INTO sign_in_throttle (key, failures, last_failure_at) VALUES ($1, 1, $2)
                 ON CONFLICT (key) DO UPDATE SET failures = sign_in_throttle.failures + 1,
                     last_failure_at = excluded.last_failure_at",
            )
            .bind(k)
            .bind(&now)
            .execute(&mut *tx)
            .await?;
        }
        auth_event(
            &mut tx,
            "public",
            username,
            json!({"event": "sign_in_failed", "client": client, "reason": reason}),
        )
        .await?;
        tx.commit().await?;
        Ok(())
    }

    async fn clear_sign_in_failures(&self, keys: &[String]) -> Result<()> {
        let mut tx = self.begin_write().await?;
        for k in keys {
            sqlx::query("DELETE FROM sign_in_throttle WHERE key = $1")
                .bind(k)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(())
    }
}
