//! The rules that runcode's crates share, each written once: how an address
//! is split, joined and judged (`url`), `%XX` escapes (`percent`), dates in
//! UTC (`time`), private files replaced atomically (`fs`) and names for
//! temporary files (`temp`), programs on PATH (`program`). No dependencies, no I/O beyond `fs`. `cases`
//! is the table of address cases every crate's tests run their rules on.

#[doc(hidden)]
pub mod cases;
pub mod fs;
pub mod percent;
pub mod program;
pub mod temp;
pub mod time;
pub mod url;
