/// The app's commands, by name: each becomes an `allow-…` permission that the main window's
/// capability grants one by one (SECURITY.md W2).
const COMMANDS: &[&str] = &[
    "app_info",
    "list_conversations",
    "create_conversation",
    "rename_conversation",
    "update_conversation",
    "set_conversation_profile",
    "delete_conversation",
    "restore_conversation",
    "get_messages",
    "rate_reply",
    "get_rating",
    "list_rating_reasons",
    "set_rating_reasons",
    "choose_reply",
    "arena_round",
    "arena_vote",
    "leaderboard",
    "ratings_by_model",
    "export_ratings",
    "judge_agreement",
    "select_branch",
    "conversation_totals",
    "list_model_table",
    "save_model_info",
    "remove_model_info",
    "send_message",
    "retry_message",
    "cancel_stream",
    "get_profile",
    "update_profile",
    "set_api_key",
    "clear_api_key",
    "list_models",
    "list_profiles",
    "create_profile",
    "delete_profile",
    "set_default_profile",
    "set_app_proxy",
    "find_local_servers",
    "check_link",
    "open_link",
    "list_rubrics",
    "save_rubric",
    "judge_reply",
    "judge_pair",
    "list_verdicts",
];

fn main() {
    println!("cargo:rerun-if-changed=src-tauri/capabilities");
    println!("cargo:rerun-if-changed=ui");
    tauri_build::try_build(
        tauri_build::Attributes::new()
            .capabilities_path_pattern("./src-tauri/capabilities/**/*")
            .app_manifest(tauri_build::AppManifest::new().commands(COMMANDS)),
    )
    .expect("tauri build step failed");
}
