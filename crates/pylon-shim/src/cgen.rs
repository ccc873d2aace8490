//! Emits `_pylon_<cap>module.c` by walking the resolved shim world (see the crate docs
//! for the Python mapping it implements).

use std::collections::{BTreeSet, HashSet};
use std::fmt::Write as _;

use wit_bindgen_core::wit_parser::{
    Docs, Function, FunctionKind, Handle, Int, InterfaceId, Param, Record, Resolve, Result_, Tuple,
    Type, TypeDefKind, TypeId, TypeOwner, Variant, WorldId, WorldItem,
};

use crate::names::CNames;
use crate::ShimError;

const RUNTIME: &str = include_str!("runtime.c");

/// Generates the module source.
pub(crate) fn module_source(
    resolve: &Resolve,
    world: WorldId,
    cap: &str,
    module: &str,
    header: &str,
    names: CNames,
) -> Result<String, ShimError> {
    let mut g = Gen {
        resolve,
        cap: cap.to_string(),
        module: module.to_string(),
        names,
        conv: Vec::new(),
        conv_seen: HashSet::new(),
        statics: String::new(),
        funcs: String::new(),
        tables: String::new(),
        init: String::new(),
    };
    let mut ifaces = Vec::new();
    for (_, item) in resolve.worlds[world].imports.iter() {
        if let WorldItem::Interface { id, .. } = item {
            ifaces.push(*id);
        }
    }
    let mut seen_ns = BTreeSet::new();
    for id in &ifaces {
        let py = g.iface_py(*id);
        if !seen_ns.insert(py.clone()) {
            return Err(g.unsupported(
                &py,
                "two imported interfaces have the same name, so they would share one namespace",
            ));
        }
        g.interface(*id)?;
    }
    g.finish(header, &ifaces)
}

struct Gen<'a> {
    resolve: &'a Resolve,
    cap: String,
    module: String,
    names: CNames,
    /// Types that need a lower/lift pair, in first-use order.
    conv: Vec<TypeId>,
    conv_seen: HashSet<String>,
    statics: String,
    funcs: String,
    tables: String,
    init: String,
}

/// `compress-options` → `CompressOptions`.
pub(crate) fn camel(name: &str) -> String {
    name.split('-')
        .map(|w| {
            let mut c = w.chars();
            match c.next() {
                Some(f) => f.to_uppercase().chain(c).collect::<String>(),
                None => String::new(),
            }
        })
        .collect()
}

/// `flush-mode` → `FLUSH_MODE`.
fn shouty(name: &str) -> String {
    name.replace('-', "_").to_uppercase()
}

/// `mem-level` → `mem_level`.
pub(crate) fn py_ident(name: &str) -> String {
    name.replace('-', "_")
}

/// A C string literal (ASCII only: anything else as octal escapes, `?` escaped so that
/// no trigraph can form).
fn c_str(s: &str) -> String {
    let mut out = String::from("\"");
    for b in s.bytes() {
        match b {
            b'"' => out.push_str("\\\""),
            b'\\' => out.push_str("\\\\"),
            b'\n' => out.push_str("\\n"),
            b'?' => out.push_str("\\?"),
            0x20..=0x7e => out.push(b as char),
            _ => {
                let _ = write!(out, "\\{b:03o}");
            }
        }
    }
    out.push('"');
    out
}

fn doc_text(docs: &Docs) -> String {
    docs.contents.as_deref().unwrap_or("").trim().to_string()
}

fn int_c(int: Int) -> &'static str {
    match int {
        Int::U8 => "uint8_t",
        Int::U16 => "uint16_t",
        Int::U32 => "uint32_t",
        Int::U64 => "uint64_t",
    }
}

enum Callable {
    Free,
    Method,
    Static,
    Ctor(TypeId),
}

/// The attribute names of one interface's namespace: two WIT items that would map to
/// the same Python name are refused rather than one silently replacing the other.
struct NamespaceAttrs {
    ns_py: String,
    names: BTreeSet<String>,
}

impl NamespaceAttrs {
    fn add(&mut self, g: &Gen<'_>, name: String) -> Result<(), ShimError> {
        if self.names.insert(name.clone()) {
            Ok(())
        } else {
            Err(g.unsupported(
                &format!("{}.{name}", self.ns_py),
                "two WIT items map to the same Python name",
            ))
        }
    }
}

impl<'a> Gen<'a> {
    fn unsupported(&self, function: &str, what: &str) -> ShimError {
        ShimError::Unsupported {
            cap: self.cap.clone(),
            function: function.to_string(),
            what: what.to_string(),
        }
    }

    fn dealias(&self, ty: &Type) -> Type {
        match ty {
            Type::Id(id) => Type::Id(wit_bindgen_core::dealias(self.resolve, *id)),
            t => *t,
        }
    }

    fn iface_py(&self, id: InterfaceId) -> String {
        py_ident(
            self.resolve.interfaces[id]
                .name
                .as_deref()
                .unwrap_or("root"),
        )
    }

    /// `_pylon_zstd.zstd.CompressOptions` for a named type owned by an interface.
    fn py_qualname(&self, id: TypeId) -> String {
        let t = &self.resolve.types[id];
        let ns = match t.owner {
            TypeOwner::Interface(i) => self.iface_py(i),
            _ => "root".into(),
        };
        format!(
            "{}.{}.{}",
            self.module,
            ns,
            camel(t.name.as_deref().unwrap_or("anonymous"))
        )
    }

    fn wit_name(&self, ty: &Type) -> String {
        match ty {
            Type::Bool => "bool".into(),
            Type::U8 => "u8".into(),
            Type::U16 => "u16".into(),
            Type::U32 => "u32".into(),
            Type::U64 => "u64".into(),
            Type::S8 => "s8".into(),
            Type::S16 => "s16".into(),
            Type::S32 => "s32".into(),
            Type::S64 => "s64".into(),
            Type::F32 => "f32".into(),
            Type::F64 => "f64".into(),
            Type::Char => "char".into(),
            Type::String => "string".into(),
            Type::ErrorContext => "error-context".into(),
            Type::Id(id) => {
                let t = &self.resolve.types[*id];
                if let Some(n) = &t.name {
                    return match t.kind {
                        TypeDefKind::Record(_) | TypeDefKind::Resource => self.py_qualname(*id),
                        _ => n.clone(),
                    };
                }
                match &t.kind {
                    TypeDefKind::List(e) => format!("list<{}>", self.wit_name(e)),
                    TypeDefKind::Option(e) => format!("option<{}>", self.wit_name(e)),
                    TypeDefKind::Tuple(tu) => format!(
                        "tuple<{}>",
                        tu.types
                            .iter()
                            .map(|t| self.wit_name(t))
                            .collect::<Vec<_>>()
                            .join(", ")
                    ),
                    TypeDefKind::Result(r) => format!(
                        "result<{}, {}>",
                        r.ok.map(|t| self.wit_name(&t)).unwrap_or("_".into()),
                        r.err.map(|t| self.wit_name(&t)).unwrap_or("_".into())
                    ),
                    TypeDefKind::Handle(Handle::Own(r)) => {
                        format!("own<{}>", self.wit_name(&Type::Id(*r)))
                    }
                    TypeDefKind::Handle(Handle::Borrow(r)) => {
                        format!("borrow<{}>", self.wit_name(&Type::Id(*r)))
                    }
                    TypeDefKind::Type(t) => self.wit_name(t),
                    k => k.as_str().to_string(),
                }
            }
        }
    }

    fn key(&self, id: TypeId) -> String {
        let n = self.names.c_type(&Type::Id(id));
        n.strip_suffix("_t").unwrap_or(&n).to_string()
    }

    fn resource_key(&self, resource: TypeId) -> String {
        let r = self.names.resource(self.resolve, resource);
        let own = r.own;
        // `<ns>_own_<snake>_t` → `<ns>_<snake>`
        let base = own.strip_suffix("_t").unwrap_or(&own);
        match base.rfind("_own_") {
            Some(i) => format!("{}_{}", &base[..i], &base[i + 5..]),
            None => base.to_string(),
        }
    }

    fn is_bytes(&self, elem: &Type) -> bool {
        self.dealias(elem) == Type::U8
    }

    /// Checks that `ty` can be mapped and registers the converters it needs.
    fn request(&mut self, ty: &Type, function: &str) -> Result<(), ShimError> {
        let id = match ty {
            Type::ErrorContext => return Err(self.unsupported(function, "error-context")),
            Type::Id(id) => *id,
            _ => return Ok(()),
        };
        let kind = self.resolve.types[id].kind.clone();
        match &kind {
            TypeDefKind::Future(_) | TypeDefKind::Stream(_) => {
                return Err(self.unsupported(function, &self.wit_name(ty)));
            }
            TypeDefKind::FixedLengthList(..) => {
                return Err(self.unsupported(function, "fixed-length list"));
            }
            TypeDefKind::Map(..) => return Err(self.unsupported(function, "map<K, V>")),
            TypeDefKind::Unknown => return Err(self.unsupported(function, "unresolved type")),
            TypeDefKind::Resource => return Ok(()),
            TypeDefKind::Type(t) => self.request(t, function)?,
            TypeDefKind::Record(r) => {
                for f in &r.fields {
                    self.request(&f.ty, function)?;
                }
            }
            TypeDefKind::Tuple(t) => {
                for t in &t.types {
                    self.request(t, function)?;
                }
            }
            TypeDefKind::Variant(v) => {
                for c in &v.cases {
                    if let Some(t) = &c.ty {
                        self.request(t, function)?;
                    }
                }
            }
            TypeDefKind::Option(t) => {
                if let Type::Id(inner) = self.dealias(t) {
                    if matches!(self.resolve.types[inner].kind, TypeDefKind::Option(_)) {
                        return Err(self.unsupported(
                            function,
                            &format!("{} (None would be ambiguous in Python)", self.wit_name(ty)),
                        ));
                    }
                }
                self.request(t, function)?;
            }
            TypeDefKind::Result(r) => {
                if let Some(t) = &r.ok {
                    self.request(t, function)?;
                }
                if let Some(t) = &r.err {
                    self.request(t, function)?;
                }
            }
            TypeDefKind::List(t) => self.request(t, function)?,
            TypeDefKind::Flags(f) => {
                if f.flags.len() > 64 {
                    return Err(self.unsupported(function, "flags with more than 64 members"));
                }
            }
            TypeDefKind::Enum(_) | TypeDefKind::Handle(_) => {}
        }
        if self.conv_seen.insert(self.key(id)) {
            self.conv.push(id);
        }
        Ok(())
    }

    fn contains_borrow(&self, ty: &Type) -> bool {
        let Type::Id(id) = ty else { return false };
        match &self.resolve.types[*id].kind {
            TypeDefKind::Handle(Handle::Borrow(_)) => true,
            TypeDefKind::Type(t) | TypeDefKind::List(t) | TypeDefKind::Option(t) => {
                self.contains_borrow(t)
            }
            TypeDefKind::Record(r) => r.fields.iter().any(|f| self.contains_borrow(&f.ty)),
            TypeDefKind::Tuple(t) => t.types.iter().any(|t| self.contains_borrow(t)),
            TypeDefKind::Variant(v) => v
                .cases
                .iter()
                .any(|c| c.ty.is_some_and(|t| self.contains_borrow(&t))),
            TypeDefKind::Result(r) => {
                r.ok.is_some_and(|t| self.contains_borrow(&t))
                    || r.err.is_some_and(|t| self.contains_borrow(&t))
            }
            _ => false,
        }
    }

    /// C expression (int, 0 or -1) lowering Python object `obj` into `*out`.
    fn lower(&self, ty: &Type, obj: &str, out: &str) -> String {
        match ty {
            Type::Bool => format!("pylon_lower_bool({obj}, {out})"),
            Type::U8 => format!("pylon_lower_u8({obj}, {out})"),
            Type::U16 => format!("pylon_lower_u16({obj}, {out})"),
            Type::U32 => format!("pylon_lower_u32({obj}, {out})"),
            Type::U64 => format!("pylon_lower_u64({obj}, {out})"),
            Type::S8 => format!("pylon_lower_s8({obj}, {out})"),
            Type::S16 => format!("pylon_lower_s16({obj}, {out})"),
            Type::S32 => format!("pylon_lower_s32({obj}, {out})"),
            Type::S64 => format!("pylon_lower_s64({obj}, {out})"),
            Type::F32 => format!("pylon_lower_f32({obj}, {out})"),
            Type::F64 => format!("pylon_lower_f64({obj}, {out})"),
            Type::Char => format!("pylon_lower_char({obj}, {out})"),
            Type::String => format!("pylon_lower_str({obj}, &({out})->ptr, &({out})->len)"),
            Type::ErrorContext => unreachable!("rejected by request()"),
            Type::Id(id) => format!("pylon_lower_{}({obj}, {out}, c)", self.key(*id)),
        }
    }

    /// C expression (new reference or NULL) lifting `*val`.
    fn lift(&self, ty: &Type, val: &str) -> String {
        match ty {
            Type::Bool => format!("PyBool_FromLong(*({val}))"),
            Type::U8 | Type::U16 | Type::U32 | Type::U64 => {
                format!("PyLong_FromUnsignedLongLong((unsigned long long)*({val}))")
            }
            Type::S8 | Type::S16 | Type::S32 | Type::S64 => {
                format!("PyLong_FromLongLong((long long)*({val}))")
            }
            Type::F32 | Type::F64 => format!("PyFloat_FromDouble((double)*({val}))"),
            Type::Char => format!("PyUnicode_FromOrdinal((int)*({val}))"),
            Type::String => format!("pylon_lift_str(({val})->ptr, ({val})->len)"),
            Type::ErrorContext => unreachable!("rejected by request()"),
            Type::Id(id) => format!("pylon_lift_{}({val})", self.key(*id)),
        }
    }

    /// Emits one imported interface: its namespace module, types, resource classes and
    /// free functions.
    fn interface(&mut self, iface: InterfaceId) -> Result<(), ShimError> {
        let mut attrs = NamespaceAttrs {
            ns_py: self.iface_py(iface),
            names: BTreeSet::new(),
        };
        self.namespace_init(iface);
        let resources = self.interface_types(iface, &mut attrs)?;
        // Resources: create the classes before anything can return one.
        for &res in &resources {
            self.resource_type(iface, res)?;
        }
        self.interface_functions(iface, &mut attrs)
    }

    /// Module init: creates the interface's namespace module (with its docstring) and
    /// attaches it to the top-level module.
    fn namespace_init(&mut self, iface: InterfaceId) {
        let i = &self.resolve.interfaces[iface];
        let ns_py = self.iface_py(iface);
        let full = self.resolve.id_of(iface).unwrap_or_else(|| ns_py.clone());
        let _ = writeln!(
            self.init,
            "    /* {full} */\n    ns = PyModule_New({});\n    if (ns == NULL) {{\n        goto fail;\n    }}\n    rc = PyModule_AddObjectRef(m, {}, ns);\n    Py_DECREF(ns);\n    if (rc < 0) {{\n        goto fail;\n    }}",
            c_str(&format!("{}.{ns_py}", self.module)),
            c_str(&ns_py)
        );
        let ns_doc = doc_text(&i.docs);
        if !ns_doc.is_empty() {
            let _ = writeln!(
                self.init,
                "    if (PyModule_SetDocString(ns, {}) < 0) {{\n        goto fail;\n    }}",
                c_str(&ns_doc)
            );
        }
    }

    /// Types: records and resources become classes, enum/flags/variant cases constants.
    /// Returns the resources the interface defines itself (not `use`s), whose classes
    /// are still to be made.
    fn interface_types(
        &mut self,
        iface: InterfaceId,
        attrs: &mut NamespaceAttrs,
    ) -> Result<Vec<TypeId>, ShimError> {
        let resolve = self.resolve;
        let ns_py = self.iface_py(iface);
        let mut resources = Vec::new();
        for (name, &tid) in resolve.interfaces[iface].types.iter() {
            let what = format!("{ns_py}.{name}");
            let target = wit_bindgen_core::dealias(resolve, tid);
            let tdef = &resolve.types[target];
            match &tdef.kind {
                TypeDefKind::Record(r) => {
                    self.request(&Type::Id(target), &what)?;
                    attrs.add(self, camel(name))?;
                    if target == tid {
                        self.record_type(target, r.fields.len())?;
                    }
                    let _ = writeln!(
                        self.init,
                        "    if (PyModule_AddObjectRef(ns, {}, (PyObject *)pylon_stype_{}) < 0) {{\n        goto fail;\n    }}",
                        c_str(&camel(name)),
                        self.key(target)
                    );
                }
                TypeDefKind::Resource => {
                    attrs.add(self, camel(name))?;
                    if target == tid {
                        resources.push(tid);
                    } else {
                        let _ = writeln!(
                            self.init,
                            "    if (PyModule_AddObjectRef(ns, {}, (PyObject *)pylon_rtype_{}) < 0) {{\n        goto fail;\n    }}",
                            c_str(&camel(name)),
                            self.resource_key(target)
                        );
                    }
                }
                TypeDefKind::Enum(e) => {
                    self.request(&Type::Id(target), &what)?;
                    let cases = e.cases.iter().map(|c| c.name.as_str());
                    self.case_constants(attrs, name, cases, |n| n as u64)?;
                }
                TypeDefKind::Variant(v) => {
                    self.request(&Type::Id(target), &what)?;
                    let cases = v.cases.iter().map(|c| c.name.as_str());
                    self.case_constants(attrs, name, cases, |n| n as u64)?;
                }
                TypeDefKind::Flags(f) => {
                    self.request(&Type::Id(target), &what)?;
                    let flags = f.flags.iter().map(|f| f.name.as_str());
                    self.case_constants(attrs, name, flags, |n| 1u64 << n)?;
                }
                _ => self.request(&Type::Id(tid), &what)?,
            }
        }
        Ok(resources)
    }

    /// The constants `<TYPE>_<CASE>` of the cases (or flags) of type `type_name`, the
    /// n-th valued `value(n)`.
    fn case_constants<'c>(
        &mut self,
        attrs: &mut NamespaceAttrs,
        type_name: &str,
        cases: impl Iterator<Item = &'c str>,
        value: impl Fn(usize) -> u64,
    ) -> Result<(), ShimError> {
        for (n, case) in cases.enumerate() {
            let cname = format!("{}_{}", shouty(type_name), shouty(case));
            attrs.add(self, cname.clone())?;
            self.add_const(&cname, value(n));
        }
        Ok(())
    }

    /// The interface's free functions, added to its namespace with one method table.
    /// (Resource functions are made with their classes, by `resource_type`.)
    fn interface_functions(
        &mut self,
        iface: InterfaceId,
        attrs: &mut NamespaceAttrs,
    ) -> Result<(), ShimError> {
        let resolve = self.resolve;
        let ns_py = self.iface_py(iface);
        let mut free_entries = String::new();
        for (_, func) in resolve.interfaces[iface].functions.iter() {
            let callable = match &func.kind {
                FunctionKind::Freestanding => Callable::Free,
                FunctionKind::Method(_) => Callable::Method,
                FunctionKind::Static(_) => Callable::Static,
                FunctionKind::Constructor(r) => Callable::Ctor(*r),
                _ => {
                    return Err(
                        self.unsupported(&format!("{ns_py}.{}", func.name), "async functions")
                    )
                }
            };
            if let Callable::Free = callable {
                let py = py_ident(&func.name);
                attrs.add(self, py.clone())?;
                let cfn = self.function(iface, func, &callable)?;
                let _ = writeln!(
                    free_entries,
                    "    {{{}, (PyCFunction)(void (*)(void))pylon_fn_{cfn}, METH_VARARGS | METH_KEYWORDS, {}}},",
                    c_str(&py),
                    c_str(&self.func_doc(func, &callable))
                );
            }
        }
        if !free_entries.is_empty() {
            let t = format!(
                "pylon_ns_methods_{}",
                self.names.func(resolve, iface, &dummy())
            );
            let _ = writeln!(
                self.tables,
                "static PyMethodDef {t}[] = {{\n{free_entries}    {{NULL, NULL, 0, NULL}}\n}};\n"
            );
            let _ = writeln!(
                self.init,
                "    if (PyModule_AddFunctions(ns, {t}) < 0) {{\n        goto fail;\n    }}"
            );
        }
        Ok(())
    }

    fn add_const(&mut self, name: &str, value: u64) {
        let _ = writeln!(
            self.init,
            "    if (pylon_add_u64(ns, {}, {value}ULL) < 0) {{\n        goto fail;\n    }}",
            c_str(name)
        );
    }

    fn record_type(&mut self, id: TypeId, nfields: usize) -> Result<(), ShimError> {
        let key = self.key(id);
        let TypeDefKind::Record(r) = &self.resolve.types[id].kind else {
            unreachable!()
        };
        let mut fields = String::new();
        for f in &r.fields {
            let doc = doc_text(&f.docs);
            let _ = writeln!(
                fields,
                "    {{{}, {}}},",
                c_str(&py_ident(&f.name)),
                if doc.is_empty() {
                    "NULL".to_string()
                } else {
                    c_str(&doc)
                }
            );
        }
        let doc = doc_text(&self.resolve.types[id].docs);
        let _ = writeln!(
            self.tables,
            "static PyStructSequence_Field pylon_fields_{key}[] = {{\n{fields}    {{NULL, NULL}}\n}};\n\nstatic PyStructSequence_Desc pylon_desc_{key} = {{\n    {},\n    {},\n    pylon_fields_{key},\n    {nfields},\n}};\n",
            c_str(&self.py_qualname(id)),
            if doc.is_empty() { "NULL".to_string() } else { c_str(&doc) },
        );
        let _ = writeln!(self.statics, "static PyTypeObject *pylon_stype_{key};");
        let _ = writeln!(
            self.init,
            "    pylon_stype_{key} = PyStructSequence_NewType(&pylon_desc_{key});\n    if (pylon_stype_{key} == NULL) {{\n        goto fail;\n    }}"
        );
        Ok(())
    }

    fn resource_type(&mut self, iface: InterfaceId, res: TypeId) -> Result<(), ShimError> {
        let resolve = self.resolve;
        let rn = self.names.resource(resolve, res);
        let key = self.resource_key(res);
        let name = resolve.types[res].name.clone().unwrap_or_default();
        let qual = self.py_qualname(res);
        let _ = writeln!(self.statics, "static PyTypeObject *pylon_rtype_{key};");
        let _ = writeln!(
            self.funcs,
            "static void\npylon_drop_{key}(int32_t h)\n{{\n    {}(({}){{h}});\n}}\n\nstatic void\npylon_dealloc_{key}(PyObject *self)\n{{\n    pylon_resource_dealloc(self, pylon_drop_{key});\n}}\n\nstatic PyObject *\npylon_close_{key}(PyObject *self, PyObject *unused)\n{{\n    (void)unused;\n    pylon_resource_drop(self, pylon_drop_{key});\n    Py_RETURN_NONE;\n}}\n\nstatic PyObject *\npylon_exit_{key}(PyObject *self, PyObject *args)\n{{\n    (void)args;\n    pylon_resource_drop(self, pylon_drop_{key});\n    Py_RETURN_NONE;\n}}\n",
            rn.drop_own, rn.own
        );

        let mut entries = String::new();
        let mut ctor = None;
        let mut names_seen = BTreeSet::new();
        for (_, func) in resolve.interfaces[iface].functions.iter() {
            let callable = match func.kind {
                FunctionKind::Method(r) if r == res => Callable::Method,
                FunctionKind::Static(r) if r == res => Callable::Static,
                FunctionKind::Constructor(r) if r == res => Callable::Ctor(r),
                _ => continue,
            };
            let cfn = self.function(iface, func, &callable)?;
            if let Callable::Ctor(_) = callable {
                ctor = Some((cfn, self.func_doc(func, &callable)));
                continue;
            }
            let py = py_ident(func.item_name());
            if py == "close" || !names_seen.insert(py.clone()) {
                return Err(self.unsupported(
                    &format!("{}.{}", camel(&name), func.item_name()),
                    "a method named `close` (the shim's own close() drops the handle)",
                ));
            }
            let flags = match callable {
                Callable::Static => "METH_VARARGS | METH_KEYWORDS | METH_STATIC",
                _ => "METH_VARARGS | METH_KEYWORDS",
            };
            let _ = writeln!(
                entries,
                "    {{{}, (PyCFunction)(void (*)(void))pylon_fn_{cfn}, {flags}, {}}},",
                c_str(&py),
                c_str(&self.func_doc(func, &callable))
            );
        }
        let _ = writeln!(
            entries,
            "    {{\"close\", pylon_close_{key}, METH_NOARGS, \"close($self)\\n--\\n\\nDrops the WIT handle now (idempotent); later calls raise ValueError.\"}},"
        );
        let _ = writeln!(
            entries,
            "    {{\"__enter__\", pylon_resource_enter, METH_NOARGS, NULL}},\n    {{\"__exit__\", pylon_exit_{key}, METH_VARARGS, NULL}},"
        );
        let mut doc = doc_text(&resolve.types[res].docs);
        let mut slots = format!(
            "    {{Py_tp_dealloc, (void *)pylon_dealloc_{key}}},\n    {{Py_tp_methods, pylon_methods_{key}}},\n"
        );
        let mut flags = "Py_TPFLAGS_DEFAULT | Py_TPFLAGS_IMMUTABLETYPE".to_string();
        match &ctor {
            Some((cfn, cdoc)) => {
                let _ = writeln!(slots, "    {{Py_tp_new, (void *)pylon_fn_{cfn}}},");
                doc = cdoc.clone();
            }
            None => flags.push_str(" | Py_TPFLAGS_DISALLOW_INSTANTIATION"),
        }
        if !doc.is_empty() {
            let _ = writeln!(slots, "    {{Py_tp_doc, (void *){}}},", c_str(&doc));
        }
        let _ = writeln!(
            self.tables,
            "static PyMethodDef pylon_methods_{key}[] = {{\n{entries}    {{NULL, NULL, 0, NULL}}\n}};\n\nstatic PyType_Slot pylon_slots_{key}[] = {{\n{slots}    {{0, NULL}}\n}};\n\nstatic PyType_Spec pylon_spec_{key} = {{\n    {},\n    (int)sizeof(pylon_resource),\n    0,\n    {flags},\n    pylon_slots_{key},\n}};\n",
            c_str(&qual)
        );
        let _ = writeln!(
            self.init,
            "    pylon_rtype_{key} = (PyTypeObject *)PyType_FromSpec(&pylon_spec_{key});\n    if (pylon_rtype_{key} == NULL) {{\n        goto fail;\n    }}\n    if (PyModule_AddObjectRef(ns, {}, (PyObject *)pylon_rtype_{key}) < 0) {{\n        goto fail;\n    }}",
            c_str(&camel(&name))
        );
        Ok(())
    }

    fn func_doc(&self, func: &Function, callable: &Callable) -> String {
        let skip = usize::from(matches!(callable, Callable::Method));
        let mut params: Vec<String> = func.params[skip..]
            .iter()
            .map(|p| py_ident(&p.name))
            .collect();
        let name = match callable {
            Callable::Free => {
                params.insert(0, "$module".into());
                py_ident(&func.name)
            }
            Callable::Method => {
                params.insert(0, "$self".into());
                py_ident(func.item_name())
            }
            Callable::Static => py_ident(func.item_name()),
            Callable::Ctor(r) => camel(self.resolve.types[*r].name.as_deref().unwrap_or("")),
        };
        let doc = doc_text(&func.docs);
        format!("{name}({})\n--\n\n{doc}", params.join(", "))
    }

    /// Emits the wrapper of one WIT function; returns the suffix of `pylon_fn_<suffix>`.
    fn function(
        &mut self,
        iface: InterfaceId,
        func: &Function,
        callable: &Callable,
    ) -> Result<String, ShimError> {
        let cname = self.names.func(self.resolve, iface, func);
        let what = format!("{}.{}", self.iface_py(iface), func.name);
        self.request_signature(func, &what)?;
        let skip = usize::from(matches!(callable, Callable::Method));

        let mut s = String::new();
        self.parse_arguments(&mut s, &cname, func, callable, &func.params[skip..]);
        let call_args = self.lower_arguments(&mut s, func, skip);
        s.push_str("    pylon_cleanup_commit(c);\n");
        self.call_and_convert(&mut s, &cname, func.result.as_ref(), call_args);
        // Every parameter lowered (the self handle included) can jump to `fail`.
        if !func.params.is_empty() {
            s.push_str("fail:\n    pylon_cleanup_run(c);\n    return NULL;\n");
        }
        s.push_str("}\n\n");
        self.funcs.push_str(&s);
        Ok(cname)
    }

    /// Checks that every parameter and the result of `func` can be mapped, and registers
    /// the converters they need.
    fn request_signature(&mut self, func: &Function, what: &str) -> Result<(), ShimError> {
        for p in &func.params {
            self.request(&p.ty, what)?;
        }
        if let Some(r) = &func.result {
            self.request(r, what)?;
            if self.contains_borrow(r) {
                return Err(self.unsupported(what, "borrow<T> in a result"));
            }
        }
        Ok(())
    }

    /// The wrapper's signature and the parsing of its Python arguments (`py_params`,
    /// positional or by keyword) into `a0`, `a1`, …; then the cleanup list is set up.
    fn parse_arguments(
        &self,
        s: &mut String,
        cname: &str,
        func: &Function,
        callable: &Callable,
        py_params: &[Param],
    ) {
        let sig = match callable {
            Callable::Ctor(_) => "PyTypeObject *type, PyObject *args, PyObject *kwargs",
            _ => "PyObject *self, PyObject *args, PyObject *kwargs",
        };
        let _ = writeln!(s, "static PyObject *\npylon_fn_{cname}({sig})\n{{");
        match callable {
            Callable::Ctor(_) => s.push_str("    (void)type;\n"),
            Callable::Method => {}
            _ => s.push_str("    (void)self;\n"),
        }
        let kw: Vec<String> = py_params
            .iter()
            .map(|p| c_str(&py_ident(&p.name)))
            .chain(["NULL".to_string()])
            .collect();
        let _ = writeln!(s, "    static char *kwlist[] = {{{}}};", kw.join(", "));
        for n in 0..py_params.len() {
            let _ = writeln!(s, "    PyObject *a{n} = NULL;");
        }
        let fmt = format!(
            "{}:{}",
            "O".repeat(py_params.len()),
            match callable {
                Callable::Ctor(r) => camel(self.resolve.types[*r].name.as_deref().unwrap_or("")),
                _ => py_ident(func.item_name()),
            }
        );
        let refs: Vec<String> = (0..py_params.len()).map(|n| format!(", &a{n}")).collect();
        let _ = writeln!(
            s,
            "    if (!PyArg_ParseTupleAndKeywords(args, kwargs, {}, kwlist{})) {{\n        return NULL;\n    }}",
            c_str(&fmt),
            refs.concat()
        );
        let _ = writeln!(
            s,
            "    pylon_cleanup cl;\n    pylon_cleanup *c = &cl;\n    pylon_cleanup_init(c);"
        );
    }

    /// Lowers every WIT parameter into `p0`, `p1`, … (the first `skip` from `self`'s
    /// handle, the others from the parsed Python arguments); returns the C call's
    /// arguments.
    fn lower_arguments(&self, s: &mut String, func: &Function, skip: usize) -> Vec<String> {
        let mut call_args = Vec::new();
        for (n, p) in func.params.iter().enumerate() {
            let ct = self.names.c_type(&p.ty);
            let _ = writeln!(s, "    {ct} p{n};\n    memset(&p{n}, 0, sizeof(p{n}));");
            if n < skip {
                let _ = writeln!(
                    s,
                    "    if (pylon_self_handle(self, &p{n}.__handle) < 0) {{\n        goto fail;\n    }}"
                );
            } else {
                let _ = writeln!(
                    s,
                    "    if ({} < 0) {{\n        goto fail;\n    }}",
                    self.lower(&p.ty, &format!("a{}", n - skip), &format!("&p{n}"))
                );
            }
            if wit_bindgen_c::is_arg_by_pointer(self.resolve, &p.ty) {
                call_args.push(format!("&p{n}"));
            } else {
                call_args.push(format!("p{n}"));
            }
        }
        call_args
    }

    /// Calls the import `cname` and returns its result converted to Python (`None`
    /// without one), after the arguments' cleanup.
    fn call_and_convert(
        &self,
        s: &mut String,
        cname: &str,
        result: Option<&Type>,
        mut call_args: Vec<String>,
    ) {
        let Some(rty) = result else {
            let _ = writeln!(
                s,
                "    {cname}({});\n    pylon_cleanup_run(c);\n    Py_RETURN_NONE;",
                call_args.join(", ")
            );
            return;
        };
        let ct = self.names.c_type(rty);
        if self.ret_by_pointer(rty) {
            call_args.push("&ret".into());
            let _ = writeln!(
                s,
                "    {ct} ret;\n    memset(&ret, 0, sizeof(ret));\n    {cname}({});",
                call_args.join(", ")
            );
        } else {
            let _ = writeln!(s, "    {ct} ret = {cname}({});", call_args.join(", "));
        }
        s.push_str("    pylon_cleanup_run(c);\n    PyObject *out;\n");
        self.convert_result(s, rty);
        if let Some(d) = self.names.dtor(self.resolve, rty) {
            let _ = writeln!(s, "    {d}(&ret);");
        }
        s.push_str("    return out;\n");
    }

    /// Sets `out` from `ret`: a top-level `result<T, E>` gives the converted `T` or
    /// raises `WitError` with the converted `E`; any other type is converted as it is.
    fn convert_result(&self, s: &mut String, rty: &Type) {
        let top = self.dealias(rty);
        let result = match top {
            Type::Id(id) => match &self.resolve.types[id].kind {
                TypeDefKind::Result(r) => Some(r.clone()),
                _ => None,
            },
            _ => None,
        };
        match result {
            Some(r) => {
                let ok = match &r.ok {
                    Some(t) => self.lift(t, "&ret.val.ok"),
                    None => "Py_NewRef(Py_None)".into(),
                };
                let err = match &r.err {
                    Some(t) => self.lift(t, "&ret.val.err"),
                    None => "Py_NewRef(Py_None)".into(),
                };
                let _ = writeln!(
                    s,
                    "    if (!ret.is_err) {{\n        out = {ok};\n    }}\n    else {{\n        pylon_raise_wit_error({err});\n        out = NULL;\n    }}"
                );
            }
            None => {
                let _ = writeln!(s, "    out = {};", self.lift(rty, "&ret"));
            }
        }
    }

    /// wit-bindgen-c without signature flattening: which results come back through a
    /// return pointer rather than as the C return value.
    fn ret_by_pointer(&self, ty: &Type) -> bool {
        match ty {
            Type::String => true,
            Type::Id(id) => match &self.resolve.types[*id].kind {
                TypeDefKind::Type(t) => self.ret_by_pointer(t),
                TypeDefKind::Flags(_)
                | TypeDefKind::Enum(_)
                | TypeDefKind::Handle(_)
                | TypeDefKind::Future(_)
                | TypeDefKind::Stream(_) => false,
                _ => true,
            },
            _ => false,
        }
    }

    /// The lower/lift pair of one type.
    fn converter(&self, id: TypeId, protos: &mut String, defs: &mut String) {
        let key = self.key(id);
        let ct = self.names.c_type(&Type::Id(id));
        let _ = writeln!(
            protos,
            "PYLON_UNUSED static int pylon_lower_{key}(PyObject *o, {ct} *out, pylon_cleanup *c);\nPYLON_UNUSED static PyObject *pylon_lift_{key}(const {ct} *v);"
        );
        let (lower, lift) = self.converter_bodies(id, &key, &ct);
        let _ = writeln!(
            defs,
            "static int\npylon_lower_{key}(PyObject *o, {ct} *out, pylon_cleanup *c)\n{{\n    (void)c;\n{lower}}}\n\nstatic PyObject *\npylon_lift_{key}(const {ct} *v)\n{{\n{lift}}}\n"
        );
    }

    /// The bodies of `pylon_lower_<key>` and `pylon_lift_<key>` for type `id` (C type
    /// `ct`), by kind of type.
    fn converter_bodies(&self, id: TypeId, key: &str, ct: &str) -> (String, String) {
        let what = c_str(&self.wit_name(&Type::Id(id)));
        match &self.resolve.types[id].kind {
            TypeDefKind::Type(t) => (
                format!("    return {};\n", self.lower(t, "o", "out")),
                format!("    return {};\n", self.lift(t, "v")),
            ),
            TypeDefKind::Record(r) => self.record_converter(r, key, &what),
            TypeDefKind::Tuple(t) => self.tuple_converter(t, &what),
            TypeDefKind::Enum(e) => (
                format!(
                    "    uint32_t tag;\n    if (pylon_lower_index(o, {}, {what}, &tag) < 0) {{\n        return -1;\n    }}\n    *out = ({ct})tag;\n    return 0;\n",
                    e.cases.len()
                ),
                "    return PyLong_FromUnsignedLong((unsigned long)*v);\n".to_string(),
            ),
            TypeDefKind::Flags(f) => (
                format!(
                    "    uint64_t bits;\n    if (pylon_lower_flags(o, {}, {what}, &bits) < 0) {{\n        return -1;\n    }}\n    *out = ({ct})bits;\n    return 0;\n",
                    f.flags.len()
                ),
                "    return PyLong_FromUnsignedLongLong((unsigned long long)*v);\n".to_string(),
            ),
            TypeDefKind::Option(t) => (
                format!(
                    "    if (o == Py_None) {{\n        out->is_some = false;\n        return 0;\n    }}\n    out->is_some = true;\n    return {};\n",
                    self.lower(t, "o", "&out->val")
                ),
                format!(
                    "    if (!v->is_some) {{\n        Py_RETURN_NONE;\n    }}\n    return {};\n",
                    self.lift(t, "&v->val")
                ),
            ),
            TypeDefKind::Result(r) => self.result_converter(id, r, &what),
            TypeDefKind::Variant(v) => self.variant_converter(id, v, &what),
            TypeDefKind::List(t) => self.list_converter(t),
            TypeDefKind::Handle(h) => self.handle_converter(h),
            k => unreachable!("rejected by request(): {}", k.as_str()),
        }
    }

    /// A record: lowered from its struct-sequence type or any sequence in field order,
    /// lifted to its struct-sequence type.
    fn record_converter(&self, r: &Record, key: &str, what: &str) -> (String, String) {
        let mut lo = format!(
            "    PyObject *const *items;\n    if (pylon_fixed_seq(o, {}, {what}, c, &items) < 0) {{\n        return -1;\n    }}\n",
            r.fields.len()
        );
        let mut li = format!(
            "    PyObject *r = PyStructSequence_New(pylon_stype_{key});\n    if (r == NULL) {{\n        return NULL;\n    }}\n    PyObject *x;\n"
        );
        for (n, f) in r.fields.iter().enumerate() {
            let field = wit_bindgen_c::to_c_ident(&f.name);
            let _ = writeln!(
                lo,
                "    if ({} < 0) {{\n        return -1;\n    }}",
                self.lower(&f.ty, &format!("items[{n}]"), &format!("&out->{field}"))
            );
            let _ = writeln!(
                li,
                "    x = {};\n    if (x == NULL) {{\n        Py_DECREF(r);\n        return NULL;\n    }}\n    PyStructSequence_SetItem(r, {n}, x);",
                self.lift(&f.ty, &format!("&v->{field}"))
            );
        }
        lo.push_str("    return 0;\n");
        li.push_str("    return r;\n");
        (lo, li)
    }

    /// A tuple: lowered from any sequence of its length, lifted to a `tuple`.
    fn tuple_converter(&self, t: &Tuple, what: &str) -> (String, String) {
        let mut lo = format!(
            "    PyObject *const *items;\n    if (pylon_fixed_seq(o, {}, {what}, c, &items) < 0) {{\n        return -1;\n    }}\n",
            t.types.len()
        );
        let mut li = format!(
            "    PyObject *r = PyTuple_New({});\n    if (r == NULL) {{\n        return NULL;\n    }}\n    PyObject *x;\n",
            t.types.len()
        );
        for (n, ty) in t.types.iter().enumerate() {
            let _ = writeln!(
                lo,
                "    if ({} < 0) {{\n        return -1;\n    }}",
                self.lower(ty, &format!("items[{n}]"), &format!("&out->f{n}"))
            );
            let _ = writeln!(
                li,
                "    x = {};\n    if (x == NULL) {{\n        Py_DECREF(r);\n        return NULL;\n    }}\n    PyTuple_SET_ITEM(r, {n}, x);",
                self.lift(ty, &format!("&v->f{n}"))
            );
        }
        lo.push_str("    return 0;\n");
        li.push_str("    return r;\n");
        (lo, li)
    }

    /// A `result` not in return position: a variant with cases 0 = ok, 1 = err.
    fn result_converter(&self, id: TypeId, r: &Result_, what: &str) -> (String, String) {
        let mut lo = format!(
            "    uint32_t tag;\n    PyObject *payload;\n    int bare;\n    if (pylon_variant_parts(o, 2, {what}, c, &tag, &payload, &bare) < 0) {{\n        return -1;\n    }}\n    out->is_err = tag == 1;\n"
        );
        let mut li = String::from("    if (!v->is_err) {\n");
        for (tag, field, t) in [(0, "ok", r.ok), (1, "err", r.err)] {
            let case = format!("{} case {field}", self.wit_name(&Type::Id(id)));
            match t {
                Some(t) => {
                    let _ = writeln!(
                        lo,
                        "    if (tag == {tag}) {{\n        if (pylon_need_payload(bare, {}) < 0) {{\n            return -1;\n        }}\n        return {};\n    }}",
                        c_str(&case),
                        self.lower(&t, "payload", &format!("&out->val.{field}"))
                    );
                    let _ = writeln!(
                        li,
                        "        return pylon_lift_case({tag}, {});",
                        self.lift(&t, &format!("&v->val.{field}"))
                    );
                }
                None => {
                    let _ = writeln!(
                        lo,
                        "    if (tag == {tag}) {{\n        return pylon_no_payload(payload, {});\n    }}",
                        c_str(&case)
                    );
                    let _ = writeln!(
                        li,
                        "        return pylon_lift_case({tag}, Py_NewRef(Py_None));"
                    );
                }
            }
            if tag == 0 {
                li.push_str("    }\n    else {\n");
            }
        }
        li.push_str("    }\n");
        lo.push_str("    return 0;\n");
        (lo, li)
    }

    /// A variant: lowered from `(case_index, payload)` or a bare case index, lifted to
    /// `(case_index, payload_or_None)`.
    fn variant_converter(&self, id: TypeId, v: &Variant, what: &str) -> (String, String) {
        let tag_t = int_c(v.tag());
        let mut lo = format!(
            "    uint32_t tag;\n    PyObject *payload;\n    int bare;\n    if (pylon_variant_parts(o, {}, {what}, c, &tag, &payload, &bare) < 0) {{\n        return -1;\n    }}\n    out->tag = ({tag_t})tag;\n    switch (tag) {{\n",
            v.cases.len()
        );
        let mut li = String::from("    switch (v->tag) {\n");
        for (n, case) in v.cases.iter().enumerate() {
            let cname = c_str(&format!(
                "{} case {}",
                self.wit_name(&Type::Id(id)),
                case.name
            ));
            match &case.ty {
                Some(t) => {
                    let field = wit_bindgen_c::to_c_ident(&case.name);
                    let _ = writeln!(
                        lo,
                        "    case {n}:\n        if (pylon_need_payload(bare, {cname}) < 0) {{\n            return -1;\n        }}\n        return {};",
                        self.lower(t, "payload", &format!("&out->val.{field}"))
                    );
                    let _ = writeln!(
                        li,
                        "    case {n}:\n        return pylon_lift_case({n}, {});",
                        self.lift(t, &format!("&v->val.{field}"))
                    );
                }
                None => {
                    let _ = writeln!(
                        lo,
                        "    case {n}:\n        return pylon_no_payload(payload, {cname});"
                    );
                    let _ = writeln!(
                        li,
                        "    case {n}:\n        return pylon_lift_case({n}, Py_NewRef(Py_None));"
                    );
                }
            }
        }
        lo.push_str("    default:\n        return 0;\n    }\n");
        li.push_str("    default:\n        PyErr_SetString(PyExc_SystemError, \"invalid variant tag\");\n        return NULL;\n    }\n");
        (lo, li)
    }

    /// A list: `list<u8>` borrows a bytes-like object's buffer and lifts to `bytes`;
    /// other lists lower any iterable into a PyMem array and lift to a `list`.
    fn list_converter(&self, t: &Type) -> (String, String) {
        if self.is_bytes(t) {
            return (
                "    return pylon_lower_bytes(o, (uint8_t **)&out->ptr, &out->len, c);\n"
                    .to_string(),
                "    return pylon_lift_bytes((const uint8_t *)v->ptr, v->len);\n".to_string(),
            );
        }
        let et = self.names.c_type(t);
        (
            format!(
                "    PyObject *const *items;\n    Py_ssize_t n;\n    if (pylon_seq(o, c, &items, &n) < 0) {{\n        return -1;\n    }}\n    {et} *arr = NULL;\n    if (n > 0) {{\n        arr = pylon_alloc_array(c, n, sizeof({et}));\n        if (arr == NULL) {{\n            return -1;\n        }}\n    }}\n    for (Py_ssize_t i = 0; i < n; i++) {{\n        if ({} < 0) {{\n            return -1;\n        }}\n    }}\n    out->ptr = arr;\n    out->len = (size_t)n;\n    return 0;\n",
                self.lower(t, "items[i]", "&arr[i]")
            ),
            format!(
                "    if (v->len > (size_t)PY_SSIZE_T_MAX) {{\n        return PyErr_NoMemory();\n    }}\n    PyObject *r = PyList_New((Py_ssize_t)v->len);\n    if (r == NULL) {{\n        return NULL;\n    }}\n    for (size_t i = 0; i < v->len; i++) {{\n        PyObject *x = {};\n        if (x == NULL) {{\n            Py_DECREF(r);\n            return NULL;\n        }}\n        PyList_SET_ITEM(r, (Py_ssize_t)i, x);\n    }}\n    return r;\n",
                self.lift(t, "&v->ptr[i]")
            ),
        )
    }

    /// A resource handle: lowered from an instance of the resource's class (an `own`
    /// moves the handle out of it); an `own` lifts to a new instance, a `borrow` never
    /// lifts (rejected in results).
    fn handle_converter(&self, h: &Handle) -> (String, String) {
        let (own, res) = match h {
            Handle::Own(r) => (1, *r),
            Handle::Borrow(r) => (0, *r),
        };
        let res = wit_bindgen_core::dealias(self.resolve, res);
        let rkey = self.resource_key(res);
        let lower = format!(
            "    return pylon_lower_handle(o, pylon_rtype_{rkey}, {own}, c, &out->__handle);\n"
        );
        let lift = if own == 1 {
            format!(
                "    return pylon_wrap_handle(pylon_rtype_{rkey}, v->__handle, pylon_drop_{rkey});\n"
            )
        } else {
            "    (void)v;\n    PyErr_SetString(PyExc_SystemError, \"a borrow cannot be returned\");\n    return NULL;\n".to_string()
        };
        (lower, lift)
    }

    fn finish(self, header: &str, ifaces: &[InterfaceId]) -> Result<String, ShimError> {
        let mut protos = String::new();
        let mut defs = String::new();
        // Resource types are declared before the converters that refer to them; the
        // drop functions are generated with the classes, so declare them too.
        let mut res_protos = String::new();
        for &iface in ifaces {
            for (_, &tid) in self.resolve.interfaces[iface].types.iter() {
                if matches!(self.resolve.types[tid].kind, TypeDefKind::Resource) {
                    let _ = writeln!(
                        res_protos,
                        "static void pylon_drop_{}(int32_t h);",
                        self.resource_key(tid)
                    );
                }
            }
        }
        for &id in &self.conv {
            self.converter(id, &mut protos, &mut defs);
        }
        let imports: Vec<String> = ifaces
            .iter()
            .map(|i| self.resolve.id_of(*i).unwrap_or_default())
            .collect();
        let module_doc = format!(
            "Python bindings of the WIT interfaces of the `{}` cap, generated by pylon-shim.\n\nImports: {}.",
            self.cap,
            imports.join(", ")
        );
        let mut out = String::new();
        let _ = write!(
            out,
            "/* Generated by pylon-shim from the WIT of the `{cap}` cap; do not edit.\n *\n * Module {module}: imports {imports}.\n * The Python mapping is documented in the pylon-shim crate (src/lib.rs).\n */\n\n#define PY_SSIZE_T_CLEAN\n#include \"Python.h\"\n\n#include <stdbool.h>\n#include <stdint.h>\n#include <string.h>\n\n#include \"{header}\"\n\n",
            cap = self.cap,
            module = self.module,
            imports = imports.join(", "),
        );
        out.push_str(RUNTIME);
        out.push_str("\n/* ---- types ---- */\n\n");
        out.push_str(&self.statics);
        out.push('\n');
        out.push_str(&res_protos);
        out.push('\n');
        out.push_str(&protos);
        out.push_str("\n/* ---- converters ---- */\n\n");
        out.push_str(&defs);
        out.push_str("/* ---- functions ---- */\n\n");
        out.push_str(&self.funcs);
        out.push_str("/* ---- tables ---- */\n\n");
        out.push_str(&self.tables);
        let m = &self.module;
        let _ = write!(
            out,
            "static struct PyModuleDef pylon_moduledef = {{\n    PyModuleDef_HEAD_INIT,\n    {},\n    {},\n    -1,\n    NULL,\n    NULL,\n    NULL,\n    NULL,\n    NULL,\n}};\n\nPyMODINIT_FUNC\nPyInit_{m}(void)\n{{\n    PyObject *ns;\n    int rc;\n    PyObject *m = PyModule_Create(&pylon_moduledef);\n    if (m == NULL) {{\n        return NULL;\n    }}\n    pylon_WitError = PyErr_NewExceptionWithDoc({}, {}, NULL, NULL);\n    if (pylon_WitError == NULL) {{\n        goto fail;\n    }}\n    if (PyModule_AddObjectRef(m, \"WitError\", pylon_WitError) < 0) {{\n        goto fail;\n    }}\n{}    (void)ns;\n    (void)rc;\n    return m;\nfail:\n    Py_DECREF(m);\n    return NULL;\n}}\n",
            c_str(m),
            c_str(&module_doc),
            c_str(&format!("{m}.WitError")),
            c_str("An import returned the err case of a result; args[0] is the converted error value."),
            self.init
        );
        Ok(out)
    }
}

/// A placeholder function, only to derive a unique per-interface C prefix from
/// `c_func_name` (`<interface ns>_`).
fn dummy() -> Function {
    Function {
        name: "functions".into(),
        kind: FunctionKind::Freestanding,
        params: Vec::new(),
        result: None,
        docs: Docs::default(),
        stability: Default::default(),
        span: Default::default(),
        external_id: None,
    }
}
