// Hide the console window on Windows release builds.
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

fn main() {
    parley_core::trace("start");
    std::process::exit(parley_desktop::gui::run());
}
