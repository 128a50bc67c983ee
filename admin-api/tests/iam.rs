//! IAM through the console API (the router, called in-process) against a fake data plane on
//! a temporary Unix socket: policies are validated, scoped per tenant and refused deletion
//! while attached; groups give their members their policies; every change reaches the data
//! plane in the identity snapshot; and an admin.db from before IAM gives its users
//! `readwrite`.

use std::os::unix::net::{UnixListener, UnixStream};
use std::sync::{Arc, Mutex};

use admin::app::{App, now_seconds};
use admin::store::{AuditFilter, Store, Tenant, User};
use axum::body::Body;
use axum::http::{Request, StatusCode};
use control::identity::IdentitySnapshot;
use control::wire::{Request as Wire, Response, Status, read_frame, write_frame};
use serde_json::{Value, json};
use tower_service::Service;

/// What the fake data plane holds: the last identity snapshot.
type Held = Arc<Mutex<Option<IdentitySnapshot>>>;

fn answer(held: &Held, request: Wire) -> Response {
    match request {
        Wire::Hello { protocol } => Response::Hello {
            protocol,
            shards: 1,
            partitions: 1,
        },
        Wire::PutIdentity { snapshot } => {
            snapshot
                .validate()
                .expect("the admin pushes valid snapshots");
            *held.lock().expect("fake data plane") = Some(snapshot);
            Response::Ok
        }
        Wire::Status => Response::Status(Status {
            shards: 1,
            partitions: 1,
            identity_version: held
                .lock()
                .expect("fake data plane")
                .as_ref()
                .map_or(0, |s| s.version),
            settings_version: 0,
            event_heads: vec![0],
            master_key_version: 1,
        }),
        Wire::SealingKeys => Response::SealingKeys(
            control::sealing::SealingKeys::new(1, [(1, [1u8; 32])])
                .expect("fake data plane")
                .to_wire(),
        ),
        _ => Response::Ok,
    }
}

fn serve(listener: &UnixListener, held: &Held) {
    for stream in listener.incoming() {
        let Ok(mut stream): Result<UnixStream, _> = stream else {
            return;
        };
        let held = Arc::clone(held);
        std::thread::spawn(move || {
            while let Ok(Some(request)) = read_frame::<Wire>(&mut stream) {
                if write_frame(&mut stream, &answer(&held, request)).is_err() {
                    return;
                }
            }
        });
    }
}

fn tenant(id: &str, name: &str) -> Tenant {
    Tenant {
        id: id.into(),
        name: name.into(),
        display_name: name.into(),
        status: "active".into(),
        max_storage_bytes: None,
        max_buckets: None,
        max_access_keys: None,
        created_at: 0,
        updated_at: 0,
    }
}

fn user(id: &str, tenant: Option<&str>, role: &str) -> User {
    User {
        id: id.into(),
        username: id.trim_start_matches("user-").into(),
        password_hash: "not-a-hash".into(),
        tenant_id: tenant.map(Into::into),
        role: role.into(),
        status: "active".into(),
        email: None,
        display_name: None,
        failed_attempts: 0,
        locked_until: 0,
        totp_secret: None,
        totp_enabled: false,
        totp_pending_secret: None,
        totp_last_step: None,
        created_at: 0,
        updated_at: 0,
    }
}

struct Console {
    app: Arc<App>,
    router: axum::Router,
    held: Held,
    _dir: tempfile::TempDir,
}

/// A console with tenants `acme` (tenant-a: admin `ta`, user `alice`) and `other`
/// (tenant-b: admin `tb`, user `bob`); each user's session token is their name.
fn console() -> Console {
    let dir = tempfile::tempdir().expect("test setup");
    let socket = dir.path().join("control.sock");
    let held: Held = Arc::default();
    let listener = UnixListener::bind(&socket).expect("test setup");
    let served = Arc::clone(&held);
    std::thread::spawn(move || serve(&listener, &served));
    let store = Store::open(&dir.path().join("admin.db")).expect("test setup");
    store
        .insert_tenant(&tenant("tenant-a", "acme"))
        .expect("test setup");
    store
        .insert_tenant(&tenant("tenant-b", "other"))
        .expect("test setup");
    for (id, tenant, role) in [
        ("user-ta", "tenant-a", "tenant_admin"),
        ("user-alice", "tenant-a", "user"),
        ("user-tb", "tenant-b", "tenant_admin"),
        ("user-bob", "tenant-b", "user"),
    ] {
        store
            .insert_user(&user(id, Some(tenant), role))
            .expect("test setup");
    }
    let now = now_seconds();
    for (token, user_id) in [
        ("root", "root"),
        ("ta", "user-ta"),
        ("alice", "user-alice"),
        ("tb", "user-tb"),
        ("bob", "user-bob"),
    ] {
        let digest = admin::secrets::digest(token);
        store
            .insert_session(&digest, user_id, "session", now, now + 3600)
            .expect("test setup");
    }
    let root = admin::RootIdentity {
        user: "root".into(),
        secret: "root-secret".into(),
    };
    let app = Arc::new(App::new(store, admin::link::Link::new(socket), root).expect("test setup"));
    let router = admin::http::router(Arc::clone(&app));
    Console {
        app,
        router,
        held,
        _dir: dir,
    }
}

impl Console {
    async fn call(&self, token: &str, method: &str, path: &str, body: Option<Value>) -> Reply {
        let request = Request::builder()
            .method(method)
            .uri(path)
            .header("authorization", format!("Bearer {token}"))
            .header("content-type", "application/json")
            .body(body.map_or_else(Body::empty, |body| Body::from(body.to_string())))
            .expect("test setup");
        let response = self.router.clone().call(request).await.expect("test setup");
        let status = response.status();
        let bytes = axum::body::to_bytes(response.into_body(), 1 << 20)
            .await
            .expect("test setup");
        let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, body }
    }

    fn snapshot(&self) -> IdentitySnapshot {
        self.held
            .lock()
            .expect("test setup")
            .clone()
            .expect("a snapshot was pushed")
    }

    fn snapshot_user(&self, id: &str) -> control::identity::User {
        let snapshot = self.snapshot();
        snapshot
            .users
            .into_iter()
            .find(|user| user.id == id)
            .expect("test setup")
    }
}

#[derive(Debug)]
struct Reply {
    status: StatusCode,
    body: Value,
}

impl Reply {
    #[track_caller]
    fn expect(self, status: u16) -> Value {
        assert_eq!(self.status.as_u16(), status, "{}", self.body);
        self.body
    }
}

const READ_PHOTOS: &str = r#"{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
    "Action":"s3:GetObject","Resource":"arn:aws:s3:::photos/*"}]}"#;

fn ids(list: &Value) -> Vec<String> {
    list.as_array()
        .expect("test setup")
        .iter()
        .map(|item| item["id"].as_str().expect("test setup").to_owned())
        .collect()
}

#[tokio::test]
async fn builtins_are_listed_and_valid() {
    let console = console();
    let listed = console.call("root", "GET", "/api/v1/policies", None).await;
    let listed = listed.expect(200);
    let builtins = ["readonly", "readwrite", "writeonly", "diagnostics"];
    for builtin in builtins {
        let found = &listed["policies"]
            .as_array()
            .unwrap()
            .iter()
            .find(|policy| policy["id"] == builtin)
            .expect("every built-in is listed")
            .clone();
        assert_eq!(found["builtin"], true);
        policy::parse_identity_policy(found["document"].as_str().unwrap()).unwrap();
    }
}

#[tokio::test]
async fn policies_are_validated_and_scoped_per_tenant() {
    let console = console();
    // A malformed document: 400 with the parser's message, nothing stored.
    let bad = json!({"name": "bad", "document": {"Statement": "nope"}});
    let reply = console
        .call("root", "POST", "/api/v1/policies", Some(bad))
        .await;
    let error = reply.expect(400);
    assert_eq!(error["error"]["code"], "MalformedPolicyDocument");
    assert!(!error["error"]["message"].as_str().unwrap().is_empty());
    let too_big = json!({"name": "big", "document": format!(
        r#"{{"Statement":[{{"Effect":"Allow","Action":"s3:GetObject","Resource":"{}"}}]}}"#,
        "x".repeat(7000)
    )});
    let reply = console
        .call("root", "POST", "/api/v1/policies", Some(too_big))
        .await;
    assert_eq!(
        reply.expect(400)["error"]["code"],
        "MalformedPolicyDocument"
    );

    // Tenant admins create policies in their tenant; names are unique per tenant.
    let create = json!({"name": "read-photos", "document": READ_PHOTOS});
    let mine = console
        .call("ta", "POST", "/api/v1/policies", Some(create.clone()))
        .await
        .expect(201);
    assert_eq!(mine["tenant_id"], "tenant-a");
    assert_eq!(mine["document"], READ_PHOTOS, "the document as given");
    let theirs = console
        .call("tb", "POST", "/api/v1/policies", Some(create.clone()))
        .await
        .expect(201);
    let again = console
        .call("ta", "POST", "/api/v1/policies", Some(create))
        .await;
    assert_eq!(again.expect(409)["error"]["code"], "EntityAlreadyExists");
    let (mine_id, theirs_id) = (mine["id"].as_str().unwrap(), theirs["id"].as_str().unwrap());
    let snapshot = console.snapshot();
    let pushed = snapshot.policies.iter().find(|p| p.id == mine_id).unwrap();
    assert_eq!(pushed.document, READ_PHOTOS);
    assert_eq!(pushed.tenant_id.as_deref(), Some("tenant-a"));

    // Each tenant admin sees the built-ins and their own tenant's policies only.
    let seen = console.call("ta", "GET", "/api/v1/policies", None).await;
    let seen = ids(&seen.expect(200)["policies"]);
    assert!(seen.contains(&mine_id.to_owned()) && !seen.contains(&theirs_id.to_owned()));
    assert_eq!(seen.len(), 5);
    let path = format!("/api/v1/policies/{theirs_id}");
    console.call("ta", "GET", &path, None).await.expect(403);
    console
        .call("alice", "GET", "/api/v1/policies", None)
        .await
        .expect(403);

    // Built-ins are read-only.
    let edit = json!({"document": READ_PHOTOS});
    let path = "/api/v1/policies/readonly";
    console
        .call("root", "PUT", path, Some(edit.clone()))
        .await
        .expect(403);
    console.call("root", "DELETE", path, None).await.expect(403);
}

/// Two policies of the same name, `read-photos`, one of each tenant (ta's, then tb's).
async fn two_policies(console: &Console) -> (String, String) {
    let create = json!({"name": "read-photos", "document": READ_PHOTOS});
    let mut ids = Vec::new();
    for admin in ["ta", "tb"] {
        let created = console
            .call(admin, "POST", "/api/v1/policies", Some(create.clone()))
            .await
            .expect(201);
        ids.push(created["id"].as_str().expect("test setup").to_owned());
    }
    (ids[0].clone(), ids[1].clone())
}

#[tokio::test]
async fn an_attached_policy_is_not_deleted_and_every_change_is_pushed_and_audited() {
    let console = console();
    let (mine_id, theirs_id) = two_policies(&console).await;
    let (mine_id, theirs_id) = (mine_id.as_str(), theirs_id.as_str());
    // Attach: never another tenant's policy; the own one and built-ins yes.
    let attach = |policy: &str| format!("/api/v1/users/alice/policies/{policy}");
    console
        .call("ta", "PUT", &attach(theirs_id), None)
        .await
        .expect(403);
    console
        .call("root", "PUT", &attach(theirs_id), None)
        .await
        .expect(403);
    console
        .call("alice", "PUT", &attach("readwrite"), None)
        .await
        .expect(403);
    let grants = console
        .call("ta", "PUT", &attach(mine_id), None)
        .await
        .expect(200);
    assert_eq!(ids(&grants["policies"]), [mine_id]);
    assert_eq!(console.snapshot_user("user-alice").policy_ids, [mine_id]);
    // The user reads their own effective policies, and the documents of those.
    let alice = console
        .call("alice", "GET", "/api/v1/users/alice", None)
        .await;
    let alice = alice.expect(200);
    assert_eq!(ids(&alice["effective_policies"]), [mine_id]);
    let path = format!("/api/v1/policies/{mine_id}");
    console.call("alice", "GET", &path, None).await.expect(200);
    console.call("bob", "GET", &path, None).await.expect(403);

    // Attached: the delete is refused (DeleteConflict); an update is pushed.
    let refused = console.call("ta", "DELETE", &path, None).await.expect(409);
    assert_eq!(refused["error"]["code"], "DeleteConflict");
    let changed = READ_PHOTOS.replace("photos", "albums");
    let edit = json!({"document": changed});
    console
        .call("ta", "PUT", &path, Some(edit))
        .await
        .expect(200);
    let snapshot = console.snapshot();
    let pushed = snapshot.policies.iter().find(|p| p.id == mine_id).unwrap();
    assert_eq!(pushed.document, changed);
    let bad_edit = json!({"document": "{\"Statement\": []}"});
    let reply = console.call("ta", "PUT", &path, Some(bad_edit)).await;
    assert_eq!(
        reply.expect(400)["error"]["code"],
        "MalformedPolicyDocument"
    );

    // Detached, it may go; the data plane no longer has it.
    console
        .call("ta", "DELETE", &attach(mine_id), None)
        .await
        .expect(200);
    console.call("ta", "DELETE", &path, None).await.expect(200);
    assert!(console.snapshot().policies.iter().all(|p| p.id != mine_id));
    assert!(console.snapshot_user("user-alice").policy_ids.is_empty());

    // Every change was audited.
    let audited = |event: &str| {
        let filter = AuditFilter {
            event_type: Some(event.into()),
            ..AuditFilter::default()
        };
        console.app.store.audit_page(&filter, 1, 10).unwrap().1
    };
    assert_eq!(audited("policy_created"), 2);
    assert!(audited("user_policy_attached") >= 4);
    assert_eq!(
        audited("policy_deleted"),
        2,
        "one refused (attached), one done"
    );
}

#[tokio::test]
async fn groups_give_their_members_their_policies_within_a_tenant() {
    let console = console();
    let devs = console
        .call(
            "ta",
            "POST",
            "/api/v1/groups",
            Some(json!({"name": "devs"})),
        )
        .await
        .expect(201);
    let group = devs["id"].as_str().unwrap().to_owned();
    assert_eq!(devs["tenant_id"], "tenant-a");
    let path = |rest: &str| format!("/api/v1/groups/{group}{rest}");

    // The other tenant neither sees nor touches it.
    let listed = console
        .call("tb", "GET", "/api/v1/groups", None)
        .await
        .expect(200);
    assert_eq!(listed["total"], 0);
    console.call("tb", "GET", &path(""), None).await.expect(403);
    console
        .call("tb", "PUT", &path("/members/bob"), None)
        .await
        .expect(403);
    console
        .call("alice", "GET", "/api/v1/groups", None)
        .await
        .expect(403);
    // Members come from the group's tenant.
    console
        .call("ta", "PUT", &path("/members/bob"), None)
        .await
        .expect(403);
    console
        .call("root", "PUT", &path("/members/bob"), None)
        .await
        .expect(400);

    console
        .call("ta", "PUT", &path("/members/alice"), None)
        .await
        .expect(200);
    let group_json = console
        .call("ta", "PUT", &path("/policies/readonly"), None)
        .await
        .expect(200);
    assert_eq!(ids(&group_json["members"]), ["user-alice"]);
    assert_eq!(ids(&group_json["policies"]), ["readonly"]);
    // Direct and through the group: each policy once, the direct way first.
    let direct = "/api/v1/users/alice/policies/readonly";
    console.call("ta", "PUT", direct, None).await.expect(200);
    let writeonly = "/api/v1/users/alice/policies/writeonly";
    console.call("ta", "PUT", writeonly, None).await.expect(200);
    console
        .call("ta", "PUT", &path("/policies/diagnostics"), None)
        .await
        .expect(200);

    let snapshot = console.snapshot();
    let pushed = snapshot.groups.iter().find(|g| g.id == group).unwrap();
    assert_eq!(pushed.policy_ids, ["diagnostics", "readonly"]);
    let alice = console.snapshot_user("user-alice");
    assert_eq!(alice.group_ids, std::slice::from_ref(&group));
    assert_eq!(alice.policy_ids, ["readonly", "writeonly"]);
    let answer = console
        .call("alice", "GET", "/api/v1/users/alice", None)
        .await;
    let answer = answer.expect(200);
    assert_eq!(
        answer["effective_policies"],
        json!([
            {"id": "readonly", "name": "readonly", "via_group": null},
            {"id": "writeonly", "name": "writeonly", "via_group": null},
            {"id": "diagnostics", "name": "diagnostics", "via_group": "devs"},
        ])
    );
    assert_eq!(ids(&answer["groups"]), std::slice::from_ref(&group));

    // Removing the member, then the group: the data plane follows.
    console
        .call("ta", "DELETE", &path("/members/alice"), None)
        .await
        .expect(200);
    assert!(console.snapshot_user("user-alice").group_ids.is_empty());
    console
        .call("ta", "PUT", &path("/members/alice"), None)
        .await
        .expect(200);
    console
        .call("ta", "DELETE", &path(""), None)
        .await
        .expect(200);
    assert!(console.snapshot().groups.is_empty());
    assert!(console.snapshot_user("user-alice").group_ids.is_empty());
}

#[tokio::test]
async fn a_group_holds_at_most_ten_policies() {
    let console = console();
    let devs = console
        .call(
            "ta",
            "POST",
            "/api/v1/groups",
            Some(json!({"name": "devs"})),
        )
        .await
        .expect(201);
    let group = devs["id"].as_str().unwrap().to_owned();
    let path = |rest: &str| format!("/api/v1/groups/{group}{rest}");
    for builtin in ["readonly", "diagnostics"] {
        let attach = path(&format!("/policies/{builtin}"));
        console.call("ta", "PUT", &attach, None).await.expect(200);
    }
    // At most 10 policies per group: it holds 2, so 8 more fit and the 9th does not.
    for index in 0..9 {
        let body = json!({"name": format!("p{index}"), "document": READ_PHOTOS});
        let created = console
            .call("ta", "POST", "/api/v1/policies", Some(body))
            .await;
        let id = created.expect(201)["id"].as_str().unwrap().to_owned();
        let reply = console
            .call("ta", "PUT", &path(&format!("/policies/{id}")), None)
            .await;
        if index < 8 {
            reply.expect(200);
        } else {
            assert_eq!(reply.expect(409)["error"]["code"], "LimitExceeded");
        }
    }
    let held = console.call("ta", "GET", &path(""), None).await.expect(200);
    assert_eq!(ids(&held["policies"]).len(), 10);
}

#[tokio::test]
async fn a_new_user_gets_readwrite_unless_the_creator_names_policies() {
    let console = console();
    let body = |name: &str, policies: Option<Value>| {
        let mut body = json!({"username": name, "password": "Str0ng-Passw0rd!"});
        if let Some(policies) = policies {
            body["policies"] = policies;
        }
        Some(body)
    };
    let carol = console
        .call("ta", "POST", "/api/v1/users", body("carol", None))
        .await
        .expect(201);
    assert_eq!(ids(&carol["policies"]), ["readwrite"]);
    let dave = console
        .call("ta", "POST", "/api/v1/users", body("dave", Some(json!([]))))
        .await
        .expect(201);
    assert!(ids(&dave["policies"]).is_empty());
    let theirs = json!({"name": "theirs", "document": READ_PHOTOS});
    let theirs = console
        .call("tb", "POST", "/api/v1/policies", Some(theirs))
        .await
        .expect(201);
    let stolen = Some(json!([theirs["id"]]));
    console
        .call("ta", "POST", "/api/v1/users", body("erin", stolen))
        .await
        .expect(403);
    assert!(console.app.store.user("erin").unwrap().is_none());
    let carol_id = carol["id"].as_str().unwrap();
    assert_eq!(console.snapshot_user(carol_id).policy_ids, ["readwrite"]);
}

#[test]
fn the_migration_gives_existing_users_readwrite() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("admin.db");
    {
        // admin.db as the release before IAM left it.
        let old = admin::store::migrate_to(&path, 1).unwrap();
        old.execute_batch(
            "INSERT INTO tenants VALUES ('t1', 'acme', 'Acme', 'active', NULL, NULL, NULL, 0, 0);
             INSERT INTO users (id, username, password_hash, tenant_id, role, status,
                created_at, updated_at) VALUES
                ('u1', 'alice', 'h', 't1', 'user', 'active', 0, 0),
                ('u2', 'global', 'h', NULL, 'user', 'disabled', 0, 0),
                ('u3', 'boss', 'h', 't1', 'tenant_admin', 'active', 0, 0);",
        )
        .unwrap();
    }
    let store = Store::open(&path).unwrap();
    let attached = |id: &str| -> Vec<String> {
        store
            .user_policies(id)
            .unwrap()
            .into_iter()
            .map(|p| p.id)
            .collect()
    };
    assert_eq!(attached("u1"), ["readwrite"]);
    assert_eq!(attached("u2"), ["readwrite"]);
    assert!(attached("u3").is_empty(), "admins have full access anyway");
    let readwrite = store.policy("readwrite").unwrap().unwrap();
    assert!(readwrite.builtin);
    policy::parse_identity_policy(&readwrite.document).unwrap();
}
