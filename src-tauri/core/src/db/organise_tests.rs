//! Tests of folders, tags, pin, archive and bulk changes with Undo.

use super::*;
use crate::db::Db;

fn ids(list: &[ListedConversation]) -> Vec<i64> {
    list.iter().map(|c| c.conversation.id).collect()
}

#[test]
fn folders_nest_refuse_cycles_and_hand_their_conversations_up_when_removed() {
    let db = Db::open_in_memory().unwrap();
    db.with(|c| {
        let work = create_folder(c, " Work ", None)?;
        assert_eq!(work.name, "Work");
        let sub = create_folder(c, "Clients", Some(work.id))?;
        let deeper = create_folder(c, "Acme", Some(sub.id))?;
        assert_eq!(folder_path(c, deeper.id)?, ["Work", "Clients", "Acme"]);
        assert_eq!(
            move_folder(c, work.id, Some(deeper.id)).unwrap_err().kind(),
            "invalid"
        );
        assert_eq!(create_folder(c, "  ", None).unwrap_err().kind(), "invalid");
        let conv = conversations::create(c, None)?;
        apply(
            c,
            &[conv.id],
            &Change::Move {
                folder_id: Some(deeper.id),
            },
        )?;
        delete_folder(c, sub.id)?;
        assert_eq!(state_of(c, conv.id)?.folder_id, Some(work.id));
        assert_eq!(list_folders(c)?.len(), 1);
        // Importing a path finds what exists and creates the rest.
        let id = ensure_folder_path(c, &["Work".into(), "New".into()])?.unwrap();
        assert_eq!(folder_path(c, id)?, ["Work", "New"]);
        assert_eq!(list_folders(c)?.len(), 2);
        Ok(())
    })
    .unwrap();
}

#[test]
fn tags_are_unique_by_name_in_any_case_and_colours_are_checked() {
    let db = Db::open_in_memory().unwrap();
    db.with(|c| {
        let a = ensure_tag(c, "Urgent", Some("#FF0000"))?;
        assert_eq!(a.color, "#ff0000");
        let again = ensure_tag(c, "urgent", None)?;
        assert_eq!(again.id, a.id);
        assert_eq!(
            ensure_tag(c, "x", Some("red;background:url(x)"))
                .unwrap_err()
                .kind(),
            "invalid"
        );
        let b = ensure_tag(c, "later", None)?;
        assert_eq!(
            update_tag(c, b.id, "URGENT", "#000").unwrap_err().kind(),
            "invalid"
        );
        assert_eq!(update_tag(c, b.id, "Later", "#00aa00")?.name, "Later");
        Ok(())
    })
    .unwrap();
}

#[test]
fn the_list_puts_pinned_first_hides_archived_and_carries_folder_and_tags() {
    let db = Db::open_in_memory().unwrap();
    db.with(|c| {
        let a = conversations::create(c, None)?;
        let b = conversations::create(c, None)?;
        let d = conversations::create(c, None)?;
        let f = create_folder(c, "F", None)?;
        let t1 = ensure_tag(c, "beta", None)?;
        let t2 = ensure_tag(c, "Alpha", None)?;
        apply(c, &[a.id], &Change::Pin { pinned: true })?;
        apply(c, &[b.id], &Change::Archive { archived: true })?;
        apply(
            c,
            &[d.id],
            &Change::Move {
                folder_id: Some(f.id),
            },
        )?;
        apply(c, &[d.id], &Change::AddTag { tag_id: t1.id })?;
        apply(c, &[d.id], &Change::AddTag { tag_id: t2.id })?;
        let shown = list(c, false)?;
        assert_eq!(ids(&shown), [a.id, d.id]);
        assert!(shown[0].pinned);
        assert_eq!(shown[1].folder_id, Some(f.id));
        assert_eq!(shown[1].tags, [t2.id, t1.id], "tags in name order");
        assert_eq!(ids(&list(c, true)?), [b.id]);
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_bulk_move_tag_and_delete_can_each_be_undone() {
    let db = Db::open_in_memory().unwrap();
    db.with(|c| {
        let convs: Vec<i64> = (0..3)
            .map(|_| conversations::create(c, None).map(|x| x.id))
            .collect::<Result<_>>()?;
        let f = create_folder(c, "F", None)?;
        let g = create_folder(c, "G", None)?;
        let t = ensure_tag(c, "t", None)?;
        apply(
            c,
            &convs[..1],
            &Change::Move {
                folder_id: Some(g.id),
            },
        )?;
        let before = apply(
            c,
            &convs,
            &Change::Move {
                folder_id: Some(f.id),
            },
        )?;
        assert!(list(c, false)?.iter().all(|x| x.folder_id == Some(f.id)));
        restore_states(c, &before)?;
        let folders: Vec<_> = convs
            .iter()
            .map(|&id| state_of(c, id).unwrap().folder_id)
            .collect();
        assert_eq!(folders, [Some(g.id), None, None]);

        let before = apply(c, &convs, &Change::AddTag { tag_id: t.id })?;
        assert!(list(c, false)?.iter().all(|x| x.tags == [t.id]));
        restore_states(c, &before)?;
        assert!(list(c, false)?.iter().all(|x| x.tags.is_empty()));

        delete_many(c, &convs[1..])?;
        assert_eq!(list(c, false)?.len(), 1);
        restore_many(c, &convs[1..])?;
        assert_eq!(list(c, false)?.len(), 3);
        // A bad id changes nothing at all.
        assert_eq!(
            apply(c, &[convs[0], 9999], &Change::Pin { pinned: true })
                .unwrap_err()
                .kind(),
            "not_found"
        );
        assert!(!state_of(c, convs[0])?.pinned);
        Ok(())
    })
    .unwrap();
}

#[test]
fn a_folder_moved_with_its_subfolders_must_fit_within_the_depth_limit() {
    let db = Db::open_in_memory().unwrap();
    db.with(|c| {
        let chain = |c: &rusqlite::Connection, name: &str, n: usize| -> Result<Vec<i64>> {
            let mut ids: Vec<i64> = Vec::new();
            for i in 0..n {
                ids.push(create_folder(c, &format!("{name}{i}"), ids.last().copied())?.id);
            }
            Ok(ids)
        };
        let a = chain(c, "A", MAX_DEPTH - 1)?;
        let b = chain(c, "B", 2)?;
        // B0 with its child needs two levels; one is left under the deepest A.
        let err = move_folder(c, b[0], a.last().copied()).unwrap_err();
        assert_eq!(err.kind(), "invalid");
        // Without the child it fits exactly.
        move_folder(c, b[1], None)?;
        move_folder(c, b[0], a.last().copied())?;
        Ok(())
    })
    .unwrap();
}
