//! Unit tests of `db::conversations`.

use super::*;
use crate::db::Db;

#[test]
fn create_list_rename_delete_restore() {
    let db = Db::open_in_memory().unwrap();
    db.with(|c| {
        let a = create(c, None)?;
        let b = create(c, None)?;
        assert_eq!(a.title, "");
        // Newest first; activity moves a conversation up.
        assert_eq!(
            list(c)?.iter().map(|x| x.id).collect::<Vec<_>>(),
            vec![b.id, a.id]
        );
        touch(c, a.id)?;
        assert_eq!(list(c)?[0].id, a.id);
        assert_eq!(
            rename(c, a.id, "  Trip \u{7} plans  ")?.title,
            "Trip  plans"
        );
        soft_delete(c, a.id)?;
        assert_eq!(list(c)?.len(), 1);
        assert_eq!(get(c, a.id).unwrap_err().kind(), "not_found");
        restore(c, a.id)?;
        assert_eq!(list(c)?.len(), 2);
        soft_delete(c, b.id)?;
        // Within the undo window nothing is purged…
        assert_eq!(purge_deleted(c)?, 0);
        // …after it, the conversation is gone for good.
        c.execute(
            "UPDATE conversations SET deleted_at = deleted_at - ?1",
            [UNDO_WINDOW_MS + 1],
        )?;
        assert_eq!(purge_deleted(c)?, 1);
        assert_eq!(restore(c, b.id).unwrap_err().kind(), "not_found");
        Ok(())
    })
    .unwrap();
}

#[test]
fn settings_are_validated_and_saved() {
    let db = Db::open_in_memory().unwrap();
    db.with(|c| {
        let conv = create(c, None)?;
        let with = |params: Params| ConversationSettings {
            params,
            ..Default::default()
        };
        for bad in [
            Params {
                temperature: Some(2.5),
                ..Default::default()
            },
            Params {
                max_tokens: Some(0),
                ..Default::default()
            },
            Params {
                top_p: Some(1.5),
                ..Default::default()
            },
            Params {
                frequency_penalty: Some(-2.5),
                ..Default::default()
            },
            Params {
                presence_penalty: Some(f64::NAN),
                ..Default::default()
            },
            Params {
                stop: Some(vec![
                    "a".into(),
                    "b".into(),
                    "c".into(),
                    "d".into(),
                    "e".into(),
                ]),
                ..Default::default()
            },
            Params {
                n: Some(0),
                ..Default::default()
            },
            Params {
                n: Some(9),
                ..Default::default()
            },
        ] {
            assert_eq!(
                update_settings(c, conv.id, with(bad)).unwrap_err().kind(),
                "invalid"
            );
        }
        let good = ConversationSettings {
            system_prompt: "Be brief.".into(),
            model: Some("  gpt-4o-mini ".into()),
            params: Params {
                temperature: Some(0.3),
                max_tokens: Some(256),
                top_p: Some(0.9),
                frequency_penalty: Some(-0.5),
                presence_penalty: Some(1.0),
                stop: Some(vec!["\n\n".into(), String::new(), "END".into()]),
                seed: Some(-42),
                n: Some(3),
                ..Default::default()
            },
            endpoint: EndpointKind::Completions,
        };
        let saved = update_settings(c, conv.id, good)?.settings;
        assert_eq!(saved.model.as_deref(), Some("gpt-4o-mini"));
        let p = &saved.params;
        assert_eq!((p.temperature, p.max_tokens), (Some(0.3), Some(256)));
        assert_eq!(saved.system_prompt, "Be brief.");
        assert_eq!(
            (p.top_p, p.frequency_penalty, p.presence_penalty),
            (Some(0.9), Some(-0.5), Some(1.0))
        );
        // Whitespace-only stops are kept, empty ones dropped; the order stays.
        assert_eq!(p.stop.as_deref(), Some(&["\n\n".into(), "END".into()][..]));
        assert_eq!(p.seed, Some(-42));
        assert_eq!((p.n, saved.endpoint), (Some(3), EndpointKind::Completions));
        // Cleared again.
        let cleared = update_settings(c, conv.id, ConversationSettings::default())?.settings;
        assert_eq!(cleared, ConversationSettings::default());
        Ok(())
    })
    .unwrap();
}

#[test]
fn the_window_sends_settings_flat_and_gets_them_back_flat() {
    let flat = serde_json::json!({"systemPrompt": "s", "model": null, "temperature": 0.5,
        "topP": null, "stop": [], "endpoint": "chat"});
    let s: ConversationSettings = serde_json::from_value(flat).unwrap();
    assert_eq!(s.params.temperature, Some(0.5));
    let s = s.validate().unwrap();
    assert_eq!(
        serde_json::to_value(&s).unwrap(),
        serde_json::json!({"systemPrompt": "s", "model": null, "temperature": 0.5, "endpoint": "chat"})
    );
}

#[test]
fn first_message_names_an_untitled_conversation_once() {
    let db = Db::open_in_memory().unwrap();
    db.with(|c| {
        let conv = create(c, None)?;
        title_if_untitled(
            c,
            conv.id,
            "\n  What is the capital of France? Please answer in one word, thanks a lot!",
        )?;
        let t = get(c, conv.id)?.title;
        assert!(
            t.starts_with("What is the capital of France?") && t.ends_with('…'),
            "{t}"
        );
        title_if_untitled(c, conv.id, "second")?;
        assert_eq!(get(c, conv.id)?.title, t);
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_conversation_keeps_its_profile_until_the_profile_is_removed() {
    use crate::db::profiles::{self, ProfileRow};
    let db = Db::open_in_memory().unwrap();
    db.with(|c| {
        let conv = create(c, None)?;
        assert_eq!(conv.profile_id, None);
        let p = profiles::create(
            c,
            &ProfileRow {
                name: "local".into(),
                ..Default::default()
            },
        )?;
        assert_eq!(set_profile(c, conv.id, Some(p.id))?.profile_id, Some(p.id));
        assert_eq!(
            set_profile(c, conv.id, Some(999)).unwrap_err().kind(),
            "not_found"
        );
        // Settings saved later leave the profile alone.
        update_settings(c, conv.id, ConversationSettings::default())?;
        assert_eq!(get(c, conv.id)?.profile_id, Some(p.id));
        profiles::delete(c, p.id)?;
        assert_eq!(get(c, conv.id)?.profile_id, None);
        Ok(())
    })
    .unwrap();
}
