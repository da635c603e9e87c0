//! Verilog emission: RustHDL's generator plus one deterministic renaming pass.
//!
//! RustHDL names the top module `top` and every sub-block instance `top$path$to$it`. ASIC tools and
//! FuseSoC dislike both, and two emitted blocks could not share one design. [`rename_modules`] maps
//! `top` to `{prefix}{block}` and `top$a$b` to `{prefix}{block}__a__b`, rewriting every identifier
//! token that names a module (declarations, instantiations, `endmodule` comments) and nothing else.
use std::collections::BTreeMap;

use rust_hdl::prelude::*;

/// Why Verilog could not be generated.
#[derive(Debug, thiserror::Error)]
pub enum EmitError {
    #[error("RustHDL design check failed for block `{block}`: {detail}")]
    Check { block: String, detail: String },
    #[error("generated Verilog for block `{block}` has no `module top`")]
    NoTop { block: String },
    #[error("`{name}` would still contain `$`, or clash with an existing name, after renaming")]
    Dollar { name: String },
}

/// The Verilog module name of a block: `{prefix}{block}` with hyphens turned into underscores.
pub fn module_name(prefix: &str, block: &str) -> String {
    format!("{prefix}{}", block.replace('-', "_"))
}

/// Runs RustHDL's checks and generator on a connected block, then renames its modules.
pub fn generate(uut: &dyn Block, block: &str, prefix: &str) -> Result<String, EmitError> {
    check_all(uut).map_err(|e| EmitError::Check {
        block: block.to_string(),
        detail: format!("{e:?}"),
    })?;
    let mut defines = ModuleDefines::default();
    uut.accept("top", &mut defines);
    let raw = defines.defines();
    let top = module_name(prefix, block);
    let renamed = rename_modules(&raw, &top, block)?;
    flatten_port_names(&renamed, &top)
}

/// Renames the top module's ports that RustHDL names with `$` (port vectors: `a$0`) to `a_0`, in
/// the top module only (sub-modules keep their own names).
pub fn flatten_port_names(verilog: &str, top: &str) -> Result<String, EmitError> {
    let start_pat = format!("module {top}(");
    let Some(start) = verilog.find(&start_pat) else {
        return Err(EmitError::NoTop {
            block: top.to_string(),
        });
    };
    let end = verilog[start..]
        .find("endmodule")
        .map(|e| start + e)
        .unwrap_or(verilog.len());
    let header_end = verilog[start..]
        .find(");")
        .map(|e| start + e)
        .unwrap_or(end);
    let ports: Vec<String> = verilog[start + start_pat.len()..header_end]
        .split(',')
        .map(|p| p.trim().to_string())
        .filter(|p| p.contains('$'))
        .collect();
    if ports.is_empty() {
        return Ok(verilog.to_string());
    }
    let body = &verilog[start..end];
    let mut map = BTreeMap::new();
    for p in ports {
        let new = p.replace('$', "_");
        let clash = map_identifiers(body, |tok| (tok == new).then(String::new)) != body;
        if clash {
            return Err(EmitError::Dollar { name: new });
        }
        map.insert(p, new);
    }
    let body = map_identifiers(body, |tok| map.get(tok).cloned());
    Ok(format!("{}{}{}", &verilog[..start], body, &verilog[end..]))
}

fn is_ident_start(c: u8) -> bool {
    c.is_ascii_alphabetic() || c == b'_'
}

fn is_ident_char(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'$'
}

/// Calls `f` for every identifier token in `text` (Verilog simple identifiers, which may contain
/// `$`) and copies everything else unchanged.
fn map_identifiers(text: &str, mut f: impl FnMut(&str) -> Option<String>) -> String {
    let bytes = text.as_bytes();
    let mut out = String::with_capacity(text.len() + text.len() / 8);
    let mut i = 0;
    while i < bytes.len() {
        let c = bytes[i];
        // Sized literals such as 32'h1f: skip the base and digits so `h1f` is not an identifier.
        if c == b'\'' {
            let start = i;
            i += 1;
            while i < bytes.len() && (is_ident_char(bytes[i]) || bytes[i] == b'\'') {
                i += 1;
            }
            out.push_str(&text[start..i]);
        } else if is_ident_start(c) {
            let start = i;
            while i < bytes.len() && is_ident_char(bytes[i]) {
                i += 1;
            }
            let tok = &text[start..i];
            match f(tok) {
                Some(new) => out.push_str(&new),
                None => out.push_str(tok),
            }
        } else if c.is_ascii_digit() {
            let start = i;
            while i < bytes.len() && is_ident_char(bytes[i]) {
                i += 1;
            }
            out.push_str(&text[start..i]);
        } else {
            let ch = text[i..]
                .chars()
                .next()
                .expect("index is on a char boundary");
            out.push(ch);
            i += ch.len_utf8();
        }
    }
    out
}

/// Renames RustHDL's `top` / `top$...` modules to `new_top` / `new_top__...`.
pub fn rename_modules(verilog: &str, new_top: &str, block: &str) -> Result<String, EmitError> {
    let mut map = BTreeMap::new();
    for line in verilog.lines() {
        let Some(rest) = line.trim_start().strip_prefix("module ") else {
            continue;
        };
        let name: String = rest
            .chars()
            .take_while(|&c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
            .collect();
        let renamed = if name == "top" {
            new_top.to_string()
        } else if let Some(path) = name.strip_prefix("top$") {
            format!("{new_top}__{}", path.replace('$', "__"))
        } else {
            name.replace('$', "__")
        };
        if renamed.contains('$') {
            return Err(EmitError::Dollar { name: renamed });
        }
        map.insert(name, renamed);
    }
    if !map.contains_key("top") {
        return Err(EmitError::NoTop {
            block: block.to_string(),
        });
    }
    Ok(map_identifiers(verilog, |tok| map.get(tok).cloned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renames_modules_and_instances_only() {
        let v = "module top(clock, a$b);\n  top$s1$q s1$q(.clock(clock));\nendmodule // top\n\
                 module top$s1$q(clock);\n wire [7:0] top_x = 8'hff;\nendmodule // top$s1$q\n";
        let r = rename_modules(v, "itx_requant", "requant").unwrap();
        assert_eq!(
            r,
            "module itx_requant(clock, a$b);\n  itx_requant__s1__q s1$q(.clock(clock));\nendmodule // itx_requant\n\
             module itx_requant__s1__q(clock);\n wire [7:0] top_x = 8'hff;\nendmodule // itx_requant__s1__q\n"
        );
    }

    #[test]
    fn top_port_vectors_lose_their_dollar() {
        let v = "module itx_x(clock,a$0,a$1,y);\n input wire [7:0] a$0;\n assign lane$0$a = a$0;\nendmodule\n\
                 module itx_x__lane(a$0);\nendmodule\n";
        let r = flatten_port_names(v, "itx_x").unwrap();
        assert!(r.starts_with(
            "module itx_x(clock,a_0,a_1,y);\n input wire [7:0] a_0;\n assign lane$0$a = a_0;"
        ));
        assert!(
            r.ends_with("module itx_x__lane(a$0);\nendmodule\n"),
            "sub-modules untouched"
        );
    }

    #[test]
    fn missing_top_is_an_error() {
        let err = rename_modules("module foo(a);\nendmodule\n", "itx_x", "x").unwrap_err();
        assert_eq!(
            err.to_string(),
            "generated Verilog for block `x` has no `module top`"
        );
    }

    #[test]
    fn module_name_turns_hyphens_into_underscores() {
        assert_eq!(module_name("itx_", "mac-array"), "itx_mac_array");
        assert_eq!(module_name("acme_", "requant"), "acme_requant");
    }
}
