/// The app's commands, by name: each becomes an `allow-…` permission that the main window's
/// capability grants one by one (SECURITY.md W2).
const COMMANDS: &[&str] = &[
    "app_info",
    "list_conversations",
    "create_conversation",
    "rename_conversation",
    "update_conversation",
    "delete_conversation",
    "restore_conversation",
    "get_messages",
    "send_message",
    "retry_message",
    "cancel_stream",
    "get_profile",
    "update_profile",
    "set_api_key",
    "clear_api_key",
    "list_models",
    "check_link",
    "open_link",
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
