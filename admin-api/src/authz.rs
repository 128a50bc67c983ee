//! Who may do what in the console API. Pure functions over the acting identity and the target,
//! so the rules are tested here and every route calls the same ones.
//!
//! - A global admin (and the root identity): everything.
//! - A tenant admin: their tenant (read), its users, their keys and its buckets; never a global
//!   admin role, never another tenant.
//! - A user: themselves only (password, 2FA, own keys) and their tenant's buckets.
//! - IAM (policies, groups, attachments): global admins all; a tenant admin their tenant's
//!   groups and policies, attaching built-ins or their tenant's policies to their tenant's
//!   users and groups; a user reads their own effective policies only.

use control::identity::Role;

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Actor {
    pub user_id: String,
    pub username: String,
    pub tenant_id: Option<String>,
    pub role: Role,
    /// The built-in root identity (MAXIOFS_ROOT_USER): a global admin that is not in admin.db.
    pub is_root: bool,
}

pub fn role_name(role: Role) -> &'static str {
    match role {
        Role::GlobalAdmin => "global_admin",
        Role::TenantAdmin => "tenant_admin",
        Role::User => "user",
    }
}

pub fn parse_role(text: &str) -> Option<Role> {
    match text {
        "global_admin" | "admin" => Some(Role::GlobalAdmin),
        "tenant_admin" => Some(Role::TenantAdmin),
        "user" => Some(Role::User),
        _ => None,
    }
}

/// The parts of a user that decide access to them.
#[derive(Clone, Copy, Debug)]
pub struct Target<'a> {
    pub user_id: &'a str,
    pub tenant_id: Option<&'a str>,
    pub role: Role,
}

impl Actor {
    pub fn is_global_admin(&self) -> bool {
        self.role == Role::GlobalAdmin
    }

    fn admin_of(&self, tenant_id: Option<&str>) -> bool {
        self.role == Role::TenantAdmin
            && self.tenant_id.is_some()
            && self.tenant_id.as_deref() == tenant_id
    }

    pub fn can_manage_tenants(&self) -> bool {
        self.is_global_admin()
    }

    pub fn can_view_tenant(&self, tenant_id: &str) -> bool {
        self.is_global_admin() || self.tenant_id.as_deref() == Some(tenant_id)
    }

    /// Which users this identity may list.
    pub fn user_scope(&self) -> UserScope<'_> {
        match (self.role, self.tenant_id.as_deref()) {
            (Role::GlobalAdmin, _) => UserScope::All,
            (Role::TenantAdmin, Some(tenant)) => UserScope::Tenant(tenant),
            _ => UserScope::OnlySelf,
        }
    }

    pub fn can_view_user(&self, target: Target<'_>) -> bool {
        self.is_global_admin() || self.user_id == target.user_id || self.admin_of(target.tenant_id)
    }

    /// Changing a user's profile, status, password or keys.
    pub fn can_manage_user(&self, target: Target<'_>) -> bool {
        if self.is_global_admin() {
            return true;
        }
        if self.user_id == target.user_id {
            return true;
        }
        // A tenant admin manages the tenant's users, but not a global admin placed there.
        self.admin_of(target.tenant_id) && target.role != Role::GlobalAdmin
    }

    /// Creating a user with `role` in `tenant_id`, or moving a user there.
    pub fn can_assign(&self, tenant_id: Option<&str>, role: Role) -> bool {
        if self.is_global_admin() {
            // A tenant admin needs a tenant; a user without one is a global user (the buckets
            // of no tenant).
            return role != Role::TenantAdmin || tenant_id.is_some();
        }
        self.admin_of(tenant_id) && role != Role::GlobalAdmin
    }

    /// Changing a user's role, tenant or status (not for oneself: an admin cannot lock
    /// themselves out or raise their own role).
    pub fn can_change_standing(&self, target: Target<'_>) -> bool {
        self.user_id != target.user_id
            && (self.is_global_admin()
                || (self.admin_of(target.tenant_id) && target.role != Role::GlobalAdmin))
    }

    /// Buckets: global admins all; everyone else the buckets of their own tenant (a user of no
    /// tenant: the buckets of no tenant, as on the S3 port).
    pub fn can_access_bucket(&self, bucket_tenant: Option<&str>) -> bool {
        self.is_global_admin() || self.tenant_id.as_deref() == bucket_tenant
    }

    /// Creating, changing and deleting the policies and groups of `tenant_id` (`None`: the
    /// global ones, for global admins only).
    pub fn can_manage_iam(&self, tenant_id: Option<&str>) -> bool {
        self.is_global_admin() || (tenant_id.is_some() && self.admin_of(tenant_id))
    }

    /// Seeing a policy and its document in the lists: global admins all; tenant admins the
    /// built-ins and their tenant's (a user sees their own effective ones, checked apart).
    pub fn can_view_policy(&self, tenant_id: Option<&str>, builtin: bool) -> bool {
        self.is_global_admin()
            || (self.admin_of(self.tenant_id.as_deref()) && builtin)
            || (tenant_id.is_some() && self.admin_of(tenant_id))
    }

    /// Attaching a policy of `policy_tenant` to a user or group of `holder_tenant` (whom the
    /// caller may manage). A tenant's policy never leaves its tenant, whoever asks; a tenant
    /// admin attaches only built-ins and their tenant's policies.
    pub fn can_attach(
        &self,
        policy_tenant: Option<&str>,
        builtin: bool,
        holder_tenant: Option<&str>,
    ) -> bool {
        let fits = policy_tenant.is_none() || policy_tenant == holder_tenant;
        fits && (self.is_global_admin()
            || (self.admin_of(holder_tenant) && (builtin || policy_tenant == holder_tenant)))
    }

    /// Changing a user's policies or groups: an administrator of theirs (a global admin may
    /// change their own; nobody else theirs: a tenant admin has full access already, and a
    /// user must not grant themselves more).
    pub fn can_change_grants(&self, target: Target<'_>) -> bool {
        self.is_global_admin() || self.can_change_standing(target)
    }

    pub fn can_manage_settings(&self) -> bool {
        self.is_global_admin()
    }

    /// Audit entries: global admins all, tenant admins their tenant's, users their own.
    pub fn audit_scope(&self) -> AuditScope<'_> {
        if self.is_global_admin() {
            AuditScope::All
        } else if let (Role::TenantAdmin, Some(tenant)) = (self.role, self.tenant_id.as_deref()) {
            AuditScope::Tenant(tenant)
        } else {
            AuditScope::User(&self.user_id)
        }
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UserScope<'a> {
    All,
    Tenant(&'a str),
    OnlySelf,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum AuditScope<'a> {
    All,
    Tenant(&'a str),
    User(&'a str),
}

#[cfg(test)]
mod tests {
    use super::*;

    fn actor(id: &str, tenant: Option<&str>, role: Role) -> Actor {
        Actor {
            user_id: id.into(),
            username: id.into(),
            tenant_id: tenant.map(Into::into),
            role,
            is_root: false,
        }
    }

    fn target<'a>(id: &'a str, tenant: Option<&'a str>, role: Role) -> Target<'a> {
        Target {
            user_id: id,
            tenant_id: tenant,
            role,
        }
    }

    #[test]
    fn global_admins_do_everything() {
        let admin = actor("g", None, Role::GlobalAdmin);
        assert!(admin.can_manage_tenants());
        assert!(admin.can_manage_user(target("x", Some("a"), Role::TenantAdmin)));
        assert!(admin.can_assign(None, Role::GlobalAdmin));
        assert!(
            !admin.can_assign(None, Role::TenantAdmin),
            "a tenant admin needs a tenant"
        );
        assert!(admin.can_assign(None, Role::User), "a global user");
        assert!(admin.can_access_bucket(Some("a")));
        assert!(admin.can_access_bucket(None));
        assert_eq!(admin.user_scope(), UserScope::All);
        assert_eq!(admin.audit_scope(), AuditScope::All);
    }

    #[test]
    fn tenant_admins_stay_in_their_tenant() {
        let admin = actor("ta", Some("a"), Role::TenantAdmin);
        assert!(!admin.can_manage_tenants());
        assert!(admin.can_view_tenant("a"));
        assert!(!admin.can_view_tenant("b"));
        assert_eq!(admin.user_scope(), UserScope::Tenant("a"));
        assert!(admin.can_manage_user(target("u", Some("a"), Role::User)));
        assert!(!admin.can_manage_user(target("u", Some("b"), Role::User)));
        assert!(!admin.can_manage_user(target("u", None, Role::User)));
        assert!(!admin.can_manage_user(target("g", Some("a"), Role::GlobalAdmin)));
        assert!(!admin.can_view_user(target("u", Some("b"), Role::User)));
        assert!(admin.can_assign(Some("a"), Role::User));
        assert!(admin.can_assign(Some("a"), Role::TenantAdmin));
        assert!(!admin.can_assign(Some("a"), Role::GlobalAdmin));
        assert!(!admin.can_assign(Some("b"), Role::User));
        assert!(!admin.can_assign(None, Role::User));
        assert!(!admin.can_change_standing(target("ta", Some("a"), Role::TenantAdmin)));
        assert!(admin.can_access_bucket(Some("a")));
        assert!(!admin.can_access_bucket(Some("b")));
        assert!(!admin.can_access_bucket(None));
        assert!(!admin.can_manage_settings());
        assert_eq!(admin.audit_scope(), AuditScope::Tenant("a"));
        assert!(admin.can_manage_iam(Some("a")));
        assert!(!admin.can_manage_iam(Some("b")) && !admin.can_manage_iam(None));
        assert!(admin.can_view_policy(None, true) && admin.can_view_policy(Some("a"), false));
        assert!(!admin.can_view_policy(None, false) && !admin.can_view_policy(Some("b"), false));
        assert!(admin.can_attach(None, true, Some("a")), "a built-in");
        assert!(admin.can_attach(Some("a"), false, Some("a")));
        assert!(
            !admin.can_attach(Some("b"), false, Some("a")),
            "another tenant's policy"
        );
        assert!(
            !admin.can_attach(Some("a"), false, Some("b")),
            "another tenant's user"
        );
        assert!(
            !admin.can_attach(None, false, Some("a")),
            "a global admin's custom policy"
        );
        assert!(!admin.can_change_grants(target("ta", Some("a"), Role::TenantAdmin)));
        assert!(admin.can_change_grants(target("u", Some("a"), Role::User)));
        let global = actor("g", None, Role::GlobalAdmin);
        assert!(global.can_attach(None, false, Some("a")));
        assert!(
            !global.can_attach(Some("a"), false, Some("b")),
            "a tenant's policy stays in it"
        );
    }

    #[test]
    fn users_only_touch_themselves() {
        let user = actor("u", Some("a"), Role::User);
        assert_eq!(user.user_scope(), UserScope::OnlySelf);
        assert!(user.can_manage_user(target("u", Some("a"), Role::User)));
        assert!(!user.can_manage_user(target("v", Some("a"), Role::User)));
        assert!(!user.can_view_user(target("v", Some("a"), Role::User)));
        assert!(!user.can_change_standing(target("u", Some("a"), Role::User)));
        assert!(!user.can_assign(Some("a"), Role::User));
        assert!(user.can_access_bucket(Some("a")));
        assert!(!user.can_access_bucket(Some("b")));
        assert_eq!(user.audit_scope(), AuditScope::User("u"));
        assert!(!user.can_manage_iam(Some("a")) && !user.can_view_policy(None, true));
        assert!(!user.can_change_grants(target("u", Some("a"), Role::User)));
        assert!(!user.can_attach(None, true, Some("a")));
    }

    #[test]
    fn a_tenant_admin_without_tenant_has_no_scope() {
        let odd = actor("x", None, Role::TenantAdmin);
        assert_eq!(odd.user_scope(), UserScope::OnlySelf);
        assert!(!odd.can_manage_user(target("u", None, Role::User)));
        assert!(!odd.can_assign(None, Role::User));
    }
}
