//! Namespaces and their API keys on every backend: `system` comes with the schema, names are checked,
//! refusals write nothing, and a key is replaced or deleted whole.

use ops_core::{NamespaceKey, StoreError};
use ops_testkit::backend_tests;

fn key(namespace: &str, name: &str, hash: &str, nonce: &str) -> NamespaceKey {
    NamespaceKey::new(namespace, name, hash, nonce)
}

backend_tests! {
    async fn the_schema_brings_the_system_namespace_and_namespaces_list_by_name(db: &TestDb) {
        let store = db.migrated_store().await;
        assert_eq!(store.namespaces().await.unwrap(), ["system"]);
        store.create_namespace("team-b").await.unwrap();
        store.create_namespace("team-a").await.unwrap();
        assert_eq!(store.namespaces().await.unwrap(), ["system", "team-a", "team-b"]);
        assert!(store.namespace_exists("team-a").await.unwrap());
        assert!(!store.namespace_exists("team-c").await.unwrap());
    }

    async fn a_namespace_is_created_once(db: &TestDb) {
        let store = db.migrated_store().await;
        store.create_namespace("team-a").await.unwrap();
        let again = store.create_namespace("team-a").await.unwrap_err();
        assert!(matches!(&again, StoreError::NamespaceExists(name) if name == "team-a"), "{again:?}");
        assert_eq!(again.to_string(), "namespace team-a exists already");
        let system = store.create_namespace("system").await.unwrap_err();
        assert!(matches!(system, StoreError::NamespaceExists(_)), "{system:?}");
        assert_eq!(db.count("namespaces").await, 2);
    }

    async fn an_invalid_name_is_refused_and_nothing_is_written(db: &TestDb) {
        let store = db.migrated_store().await;
        let refused = store.create_namespace("team:a").await.unwrap_err();
        assert_eq!(refused.to_string(), "invalid namespace `team:a`: `:` is not a letter, digit, `-`, `_` or `.`");
        let refused = store.add_namespace_key(&key("system", "a b", "hash", "nonce")).await.unwrap_err();
        assert_eq!(refused.to_string(), "invalid key name `a b`: ` ` is not a letter, digit, `-`, `_` or `.`");
        assert_eq!(db.count("namespaces").await, 1);
        assert_eq!(db.count("namespace_keys").await, 0);
    }

    async fn a_key_needs_its_namespace_and_a_name_of_its_own(db: &TestDb) {
        let store = db.migrated_store().await;
        let missing = store.add_namespace_key(&key("team-a", "deploy", "hash-1", "nonce-1")).await.unwrap_err();
        assert_eq!(missing.to_string(), "namespace team-a not found");
        assert_eq!(db.count("namespace_keys").await, 0);

        store.create_namespace("team-a").await.unwrap();
        store.add_namespace_key(&key("team-a", "deploy", "hash-1", "nonce-1")).await.unwrap();
        let stored = store.namespace_key("team-a", "deploy").await.unwrap().expect("the key");
        assert_eq!((stored.namespace.as_str(), stored.key_name.as_str()), ("team-a", "deploy"));
        assert_eq!((stored.key_hash.as_str(), stored.nonce.as_str()), ("hash-1", "nonce-1"));
        assert!(stored.created_at > 1.0e9, "{stored:?}");

        let taken = store.add_namespace_key(&key("team-a", "deploy", "hash-2", "nonce-2")).await.unwrap_err();
        assert_eq!(taken.to_string(), "namespace team-a has a key named deploy already");
        assert_eq!(store.namespace_key("team-a", "deploy").await.unwrap().unwrap().key_hash, "hash-1");

        // The same name in another namespace is another key.
        store.add_namespace_key(&key("system", "deploy", "hash-3", "nonce-3")).await.unwrap();
        store.add_namespace_key(&key("team-a", "backup", "hash-4", "nonce-4")).await.unwrap();
        let names: Vec<_> = store.namespace_keys("team-a").await.unwrap().into_iter().map(|k| k.key_name).collect();
        assert_eq!(names, ["backup", "deploy"]);
        assert_eq!(store.namespace_key("system", "deploy").await.unwrap().unwrap().key_hash, "hash-3");
        assert_eq!(store.namespace_key("team-b", "deploy").await.unwrap(), None);
    }

    async fn a_replaced_key_changes_its_hash_and_nonce(db: &TestDb) {
        let store = db.migrated_store().await;
        let missing = store.replace_namespace_key(&key("system", "admin", "hash-2", "nonce-2")).await.unwrap_err();
        assert_eq!(missing.to_string(), "namespace system has no key named admin");
        assert_eq!(db.count("namespace_keys").await, 0);

        store.add_namespace_key(&key("system", "admin", "hash-1", "nonce-1")).await.unwrap();
        store.replace_namespace_key(&key("system", "admin", "hash-2", "nonce-2")).await.unwrap();
        let stored = store.namespace_key("system", "admin").await.unwrap().unwrap();
        assert_eq!((stored.key_hash.as_str(), stored.nonce.as_str()), ("hash-2", "nonce-2"));
        assert_eq!(db.count("namespace_keys").await, 1);
    }

    async fn a_deleted_key_is_gone_and_deleting_it_again_is_an_error(db: &TestDb) {
        let store = db.migrated_store().await;
        store.add_namespace_key(&key("system", "admin", "hash-1", "nonce-1")).await.unwrap();
        store.add_namespace_key(&key("system", "other", "hash-2", "nonce-2")).await.unwrap();
        store.delete_namespace_key("system", "admin").await.unwrap();
        assert_eq!(store.namespace_key("system", "admin").await.unwrap(), None);
        assert!(store.namespace_key("system", "other").await.unwrap().is_some());
        let again = store.delete_namespace_key("system", "admin").await.unwrap_err();
        assert!(matches!(&again, StoreError::KeyNotFound { namespace, key_name } if namespace == "system" && key_name == "admin"), "{again:?}");
    }
}
