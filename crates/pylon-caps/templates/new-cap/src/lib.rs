//! Pylon @NAME@ cap: exports `pylon:@NAME@/@NAME@@0.1.0` (world `@NAME@-cap`).

wit_bindgen::generate!({
    world: "@NAME@-cap",
    path: "wit",
});

use exports::pylon::@MODULE@::@MODULE@ as wit;

struct Component;

impl wit::Guest for Component {
    fn greet(who: String) -> String {
        format!("hello, {who}")
    }
}

export!(Component);
