//! No import cycles between modules, in every crate of the workspace (ARCHITECTURE.md's
//! invariant): shared pieces sit below their users, so each module can be read, tested and
//! changed knowing only what it imports.
//!
//! A module is one source file under a crate's `src/` (`a/b.rs` and `a/b/mod.rs` are `a::b`;
//! `lib.rs` and `main.rs` are the crate root; each `src/bin/*.rs` is a root of its own). A
//! module depends on another when it names it, or an item in it, through `crate::`, `super::`
//! or `self::`, in a `use` or inline. Not counted: `mod` declarations and `pub use`
//! re-exports (a parent showing its children's items is the children's facade, not a
//! dependency of theirs), and `#[cfg(test)]` modules (a test may reach anywhere). The test
//! finds the strongly connected components of that graph and fails on any with more than one
//! module that is not in [`ALLOWED`], printing one cycle through it with the line of each
//! reference.
//!
//! Run alone: `cargo test --test module_cycles -- --nocapture` prints `0 cycles`.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Cycles known and being removed elsewhere, each as the sorted modules of its component
/// (`crate-dir: module, module`). Empty it as they go; a cycle not listed fails the test, and
/// so does a listed one that no longer exists (so the list cannot go stale).
const ALLOWED: &[&str] = &[];

/// The workspace's crates, by the directory holding their `src/`.
const CRATES: &[&str] = &[
    ".",
    "scenarios",
    "mock-server",
    "conformance",
    "benches",
    "fidelity",
];

/// One module file and where it sits.
struct Module {
    /// Crate directory, for messages.
    krate: &'static str,
    /// Path from the crate root (empty for the root).
    path: Vec<String>,
    /// The root this module's `crate::` means (a `src/bin` file is its own crate).
    root: PathBuf,
    file: PathBuf,
    /// `file` from the workspace root, for messages.
    shown: PathBuf,
}

/// A reference from one module to another: the line and the path as written.
#[derive(Clone)]
struct Ref {
    line: usize,
    text: String,
}

#[test]
fn no_module_imports_itself_through_others() {
    let workspace = Path::new(env!("CARGO_MANIFEST_DIR"));
    let modules = modules(workspace);
    let index: BTreeMap<(PathBuf, Vec<String>), usize> = modules
        .iter()
        .enumerate()
        .map(|(i, m)| ((m.root.clone(), m.path.clone()), i))
        .collect();
    let mut edges: Vec<BTreeMap<usize, Ref>> = vec![BTreeMap::new(); modules.len()];
    for (i, m) in modules.iter().enumerate() {
        let source = std::fs::read_to_string(&m.file).expect("read a source file");
        for (line, path) in references(&source) {
            let Some(target) = resolve(m, &path, &index) else {
                continue;
            };
            if target != i {
                edges[i].entry(target).or_insert(Ref {
                    line,
                    text: path.join("::"),
                });
            }
        }
    }
    let components = strongly_connected(&edges);
    let mut found = Vec::new();
    let mut unexpected = Vec::new();
    for c in components.iter().filter(|c| c.len() > 1) {
        let krate = modules[c[0]].krate;
        let mut names: Vec<String> = c.iter().map(|&i| name(&modules[i])).collect();
        names.sort();
        let key = format!("{krate}: {}", names.join(", "));
        let cycle = describe(c, &edges, &modules);
        if ALLOWED.contains(&key.as_str()) {
            println!("allowed (see ALLOWED): {key}\n{cycle}");
        } else {
            unexpected.push(format!("{key}\n{cycle}"));
        }
        found.push(key);
    }
    let stale: Vec<&&str> = ALLOWED
        .iter()
        .filter(|a| !found.iter().any(|f| f == **a))
        .collect();
    println!(
        "{} modules in {} crates: {} cycles ({} allowed)",
        modules.len(),
        CRATES.len(),
        unexpected.len(),
        found.len() - unexpected.len()
    );
    assert!(
        unexpected.is_empty(),
        "import cycles between modules (move what both sides need below them both):\n\n{}",
        unexpected.join("\n")
    );
    assert!(
        stale.is_empty(),
        "ALLOWED lists cycles that no longer exist; remove them: {stale:?}"
    );
}

/// Every module file of every crate.
fn modules(workspace: &Path) -> Vec<Module> {
    let mut out = Vec::new();
    for krate in CRATES {
        let src = workspace.join(krate).join("src");
        let mut files = Vec::new();
        walk(&src, &mut files);
        files.sort();
        for file in files {
            let rel: Vec<String> = file
                .strip_prefix(&src)
                .expect("under src")
                .iter()
                .map(|c| c.to_string_lossy().into_owned())
                .collect();
            let (root, path) = if rel.first().is_some_and(|d| d == "bin") {
                (file.clone(), Vec::new())
            } else {
                let mut path = rel;
                let last = path.pop().expect("a file name");
                match last.as_str() {
                    "lib.rs" | "main.rs" if path.is_empty() => {}
                    "mod.rs" => {}
                    other => path.push(other.trim_end_matches(".rs").to_string()),
                }
                (src.clone(), path)
            };
            let shown = file.strip_prefix(workspace).unwrap_or(&file).to_path_buf();
            out.push(Module {
                krate,
                path,
                root,
                file,
                shown,
            });
        }
    }
    out
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return;
    };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            walk(&p, out);
        } else if p.extension().is_some_and(|x| x == "rs") {
            out.push(p);
        }
    }
}

fn name(m: &Module) -> String {
    if m.path.is_empty() {
        m.file
            .file_name()
            .map(|f| f.to_string_lossy().into_owned())
            .unwrap_or_default()
    } else {
        m.path.join("::")
    }
}

/// The module a path starting with `crate`, `super` or `self` names: the longest prefix of
/// it that is a module file. `None` for any other path (another crate, a local item).
fn resolve(
    from: &Module,
    path: &[String],
    index: &BTreeMap<(PathBuf, Vec<String>), usize>,
) -> Option<usize> {
    let (mut base, rest) = match path.first()?.as_str() {
        "crate" => (Vec::new(), &path[1..]),
        "self" => (from.path.clone(), &path[1..]),
        "super" => {
            let mut base = from.path.clone();
            let mut rest = path;
            while rest.first().is_some_and(|s| s == "super") {
                base.pop()?;
                rest = &rest[1..];
            }
            (base, rest)
        }
        _ => return None,
    };
    let mut best = index.get(&(from.root.clone(), base.clone())).copied();
    for seg in rest {
        base.push(seg.clone());
        match index.get(&(from.root.clone(), base.clone())) {
            Some(&i) => best = Some(i),
            None => break,
        }
    }
    best
}

/// Paths that start with `crate`, `super` or `self`, with their line: each leaf of a `use`
/// tree, and each inline path. Comments, strings, `pub use` re-exports, `mod` lines and
/// `#[cfg(test)]` modules are left out.
fn references(source: &str) -> Vec<(usize, Vec<String>)> {
    let code = strip(source);
    let code = without_test_modules(&code);
    let mut out = Vec::new();
    let bytes: Vec<char> = code.chars().collect();
    let line_of = |pos: usize| bytes[..pos].iter().filter(|c| **c == '\n').count() + 1;
    let mut i = 0;
    while i < bytes.len() {
        let at_word =
            i == 0 || !is_ident(bytes[i - 1]) && bytes[i - 1] != ':' && bytes[i - 1] != '$';
        if at_word
            && starts_with(&bytes, i, "use")
            && !bytes.get(i + 3).copied().is_some_and(is_ident)
        {
            // `pub use` / `pub(crate) use`: a re-export; skipped whole.
            let before: String = bytes[..i]
                .iter()
                .rev()
                .take(16)
                .collect::<String>()
                .chars()
                .rev()
                .collect();
            let reexport = before.trim_end().ends_with("pub")
                || before.trim_end().ends_with(')') && before.contains("pub(");
            let end = (i..bytes.len())
                .find(|&j| bytes[j] == ';')
                .unwrap_or(bytes.len());
            if !reexport {
                let tree: String = bytes[i + 3..end].iter().collect();
                let line = line_of(i);
                for leaf in expand(&tree) {
                    if matches!(
                        leaf.first().map(String::as_str),
                        Some("crate" | "super" | "self")
                    ) {
                        out.push((line, leaf));
                    }
                }
            }
            i = end + 1;
            continue;
        }
        if at_word {
            for head in ["crate", "super", "self"] {
                if starts_with(&bytes, i, head) && starts_with(&bytes, i + head.len(), "::") {
                    let mut j = i;
                    while j < bytes.len() && (is_ident(bytes[j]) || starts_with(&bytes, j, "::")) {
                        j += if bytes[j] == ':' { 2 } else { 1 };
                    }
                    let text: String = bytes[i..j].iter().collect();
                    let segs: Vec<String> = text
                        .split("::")
                        .filter(|s| !s.is_empty())
                        .map(str::to_string)
                        .collect();
                    out.push((line_of(i), segs));
                    i = j;
                    break;
                }
            }
        }
        i += 1;
    }
    out
}

fn is_ident(c: char) -> bool {
    c.is_alphanumeric() || c == '_'
}

fn starts_with(s: &[char], at: usize, what: &str) -> bool {
    what.chars()
        .enumerate()
        .all(|(k, c)| s.get(at + k) == Some(&c))
}

/// The leaves of a `use` tree (`a::{b, c::{d, e}}` → `a::b`, `a::c::d`, `a::c::e`); `as`
/// renames and globs keep the path before them.
fn expand(tree: &str) -> Vec<Vec<String>> {
    fn go(prefix: &[String], s: &str, out: &mut Vec<Vec<String>>) {
        let s = s.trim();
        if s.is_empty() {
            return;
        }
        if let Some(open) = s.find('{') {
            let head: Vec<String> = s[..open]
                .split("::")
                .map(str::trim)
                .filter(|p| !p.is_empty())
                .map(str::to_string)
                .collect();
            let inner = &s[open + 1..s.rfind('}').unwrap_or(s.len())];
            let mut p = prefix.to_vec();
            p.extend(head);
            let mut depth = 0;
            let mut start = 0;
            for (k, c) in inner.char_indices() {
                match c {
                    '{' => depth += 1,
                    '}' => depth -= 1,
                    ',' if depth == 0 => {
                        go(&p, &inner[start..k], out);
                        start = k + 1;
                    }
                    _ => {}
                }
            }
            go(&p, &inner[start..], out);
        } else {
            let s = s.split(" as ").next().unwrap_or(s);
            let mut p = prefix.to_vec();
            p.extend(
                s.split("::")
                    .map(str::trim)
                    .filter(|x| !x.is_empty() && *x != "*")
                    .map(str::to_string),
            );
            // `self` in a group means the group's own path.
            if p.len() > 1 && p.last().is_some_and(|l| l == "self") {
                p.pop();
            }
            out.push(p);
        }
    }
    let mut out = Vec::new();
    go(&[], tree, &mut out);
    out
}

/// The source with comments, string and char literals blanked (newlines kept for lines).
fn strip(s: &str) -> String {
    let c: Vec<char> = s.chars().collect();
    let mut out = String::with_capacity(s.len());
    let mut i = 0;
    while i < c.len() {
        if starts_with(&c, i, "//") {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if starts_with(&c, i, "/*") {
            let mut depth = 0;
            while i < c.len() {
                if starts_with(&c, i, "/*") {
                    depth += 1;
                    i += 2;
                } else if starts_with(&c, i, "*/") {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if c[i] == '\n' {
                        out.push('\n');
                    }
                    i += 1;
                }
            }
        } else if c[i] == 'r'
            && (c.get(i + 1) == Some(&'"') || c.get(i + 1) == Some(&'#'))
            && (i == 0 || !is_ident(c[i - 1]))
        {
            // Raw string r"…" / r#"…"#.
            let mut j = i + 1;
            let mut hashes = 0;
            while c.get(j) == Some(&'#') {
                hashes += 1;
                j += 1;
            }
            if c.get(j) != Some(&'"') {
                out.push(c[i]);
                i += 1;
                continue;
            }
            j += 1;
            let close: String = std::iter::once('"')
                .chain(std::iter::repeat_n('#', hashes))
                .collect();
            while j < c.len() && !starts_with(&c, j, &close) {
                if c[j] == '\n' {
                    out.push('\n');
                }
                j += 1;
            }
            out.push_str("\"\"");
            i = j + close.chars().count();
        } else if c[i] == '"' {
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    i += 1;
                }
                if c.get(i) == Some(&'\n') {
                    out.push('\n');
                }
                i += 1;
            }
            out.push_str("\"\"");
            i += 1;
        } else if c[i] == '\'' && c.get(i + 2) == Some(&'\'') {
            out.push_str("' '");
            i += 3;
        } else if c[i] == '\'' && c.get(i + 1) == Some(&'\\') {
            let end = (i + 2..c.len()).find(|&j| c[j] == '\'').unwrap_or(c.len());
            out.push_str("' '");
            i = end + 1;
        } else {
            out.push(c[i]);
            i += 1;
        }
    }
    out
}

/// The code without `#[cfg(test)] mod … { … }` blocks (lines kept).
fn without_test_modules(code: &str) -> String {
    let c: Vec<char> = code.chars().collect();
    let mut out = String::with_capacity(code.len());
    let mut i = 0;
    while i < c.len() {
        if starts_with(&c, i, "#[cfg(test)]") {
            let mut j = i + "#[cfg(test)]".len();
            while j < c.len() && c[j].is_whitespace() {
                j += 1;
            }
            if starts_with(&c, j, "mod ") {
                let Some(open) = (j..c.len()).find(|&k| c[k] == '{' || c[k] == ';') else {
                    break;
                };
                if c[open] == '{' {
                    let mut depth = 0;
                    let mut k = open;
                    while k < c.len() {
                        match c[k] {
                            '{' => depth += 1,
                            '}' => {
                                depth -= 1;
                                if depth == 0 {
                                    break;
                                }
                            }
                            '\n' => out.push('\n'),
                            _ => {}
                        }
                        k += 1;
                    }
                    i = k + 1;
                    continue;
                }
            }
        }
        out.push(c[i]);
        i += 1;
    }
    out
}

/// Tarjan's strongly connected components.
fn strongly_connected(edges: &[BTreeMap<usize, Ref>]) -> Vec<Vec<usize>> {
    struct T<'a> {
        edges: &'a [BTreeMap<usize, Ref>],
        index: Vec<Option<usize>>,
        low: Vec<usize>,
        on_stack: Vec<bool>,
        stack: Vec<usize>,
        next: usize,
        out: Vec<Vec<usize>>,
    }
    fn visit(t: &mut T, v: usize) {
        t.index[v] = Some(t.next);
        t.low[v] = t.next;
        t.next += 1;
        t.stack.push(v);
        t.on_stack[v] = true;
        let targets: Vec<usize> = t.edges[v].keys().copied().collect();
        for w in targets {
            match t.index[w] {
                None => {
                    visit(t, w);
                    t.low[v] = t.low[v].min(t.low[w]);
                }
                Some(iw) if t.on_stack[w] => t.low[v] = t.low[v].min(iw),
                _ => {}
            }
        }
        if Some(t.low[v]) == t.index[v] {
            let mut c = Vec::new();
            while let Some(w) = t.stack.pop() {
                t.on_stack[w] = false;
                c.push(w);
                if w == v {
                    break;
                }
            }
            t.out.push(c);
        }
    }
    let n = edges.len();
    let mut t = T {
        edges,
        index: vec![None; n],
        low: vec![0; n],
        on_stack: vec![false; n],
        stack: Vec::new(),
        next: 0,
        out: Vec::new(),
    };
    for v in 0..n {
        if t.index[v].is_none() {
            visit(&mut t, v);
        }
    }
    t.out
}

/// One cycle through a component, as `file:line uses path` steps.
fn describe(component: &[usize], edges: &[BTreeMap<usize, Ref>], modules: &[Module]) -> String {
    let inside: BTreeSet<usize> = component.iter().copied().collect();
    let start = *inside.iter().next().expect("a non-empty component");
    // Breadth-first from `start` back to it, within the component.
    let mut prev: BTreeMap<usize, usize> = BTreeMap::new();
    let mut queue = std::collections::VecDeque::from([start]);
    let mut closing = None;
    while let Some(v) = queue.pop_front() {
        for &w in edges[v].keys().filter(|w| inside.contains(w)) {
            if w == start {
                closing = Some(v);
                break;
            }
            if let std::collections::btree_map::Entry::Vacant(e) = prev.entry(w) {
                e.insert(v);
                queue.push_back(w);
            }
        }
        if closing.is_some() {
            break;
        }
    }
    let mut path = vec![closing.expect("a component has a cycle through each module")];
    while let Some(&p) = prev.get(path.last().expect("non-empty")) {
        path.push(p);
    }
    if *path.last().expect("non-empty") != start {
        path.push(start);
    }
    path.reverse();
    path.push(start);
    path.windows(2)
        .map(|w| {
            let r = &edges[w[0]][&w[1]];
            format!(
                "  {}:{} uses {} ({})\n",
                modules[w[0]].shown.display(),
                r.line,
                r.text,
                name(&modules[w[1]])
            )
        })
        .collect()
}
