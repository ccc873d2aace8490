//! The C names wit-bindgen-c gives to the shim world's types and functions.
//!
//! wit-bindgen-c keeps its type-name table private, so this module recomputes it with
//! the same public building blocks (`gen_type_name`, `owner_namespace`, `c_func_name`)
//! in the same order (`define_live_types` per imported interface, world order). The
//! compile tests check the result against the generated header: a wit-bindgen-c
//! upgrade that renames things fails there, not at CPython build time.

use std::collections::HashMap;

use heck::ToSnakeCase;
use wit_bindgen_c::CTypeNameInfo;
use wit_bindgen_core::wit_parser::{
    Function, Handle, InterfaceId, LiveTypes, Resolve, Type, TypeDefKind, TypeId, TypeOwner,
    WorldId, WorldItem, WorldKey,
};

pub(crate) struct CNames {
    world_name: String,
    world_snake: String,
    type_names: HashMap<TypeId, String>,
    /// The key under which each interface was imported.
    keys: HashMap<InterfaceId, WorldKey>,
}

/// The C names of an imported resource's handle types and drop function.
pub(crate) struct ResourceNames {
    pub own: String,
    pub drop_own: String,
}

impl CNames {
    pub(crate) fn new(resolve: &Resolve, world: WorldId) -> Result<CNames, String> {
        let w = &resolve.worlds[world];
        let mut names = CNames {
            world_name: w.name.clone(),
            world_snake: w.name.to_snake_case(),
            type_names: HashMap::new(),
            keys: HashMap::new(),
        };
        let renamed = HashMap::new();
        for (key, item) in w.imports.iter() {
            let WorldItem::Interface { id, .. } = item else {
                continue;
            };
            names.keys.insert(*id, key.clone());
            let mut live = LiveTypes::default();
            live.add_interface(resolve, *id);
            for ty in live.iter() {
                if names.type_names.contains_key(&ty) {
                    continue;
                }
                if let TypeOwner::Interface(owner) = resolve.types[ty].owner {
                    if owner != *id {
                        return Err(format!(
                            "type {:?} of another interface is used before that interface is imported",
                            resolve.types[ty].name
                        ));
                    }
                }
                let (info, encoded) = wit_bindgen_c::gen_type_name(resolve, ty);
                let ns = match info {
                    CTypeNameInfo::Anonymous { is_prim: true } => names.world_snake.clone(),
                    _ => wit_bindgen_c::owner_namespace(
                        Some((*id, key)),
                        true,
                        names.world_name.clone(),
                        resolve,
                        ty,
                        &renamed,
                    ),
                };
                names.type_names.insert(ty, format!("{ns}_{encoded}_t"));
            }
        }
        Ok(names)
    }

    pub(crate) fn world_snake(&self) -> &str {
        &self.world_snake
    }

    /// The C type of a WIT type.
    pub(crate) fn c_type(&self, ty: &Type) -> String {
        match ty {
            Type::Bool => "bool".into(),
            Type::Char => "uint32_t".into(),
            Type::U8 => "uint8_t".into(),
            Type::S8 => "int8_t".into(),
            Type::U16 => "uint16_t".into(),
            Type::S16 => "int16_t".into(),
            Type::U32 => "uint32_t".into(),
            Type::S32 => "int32_t".into(),
            Type::U64 => "uint64_t".into(),
            Type::S64 => "int64_t".into(),
            Type::F32 => "float".into(),
            Type::F64 => "double".into(),
            Type::String => format!("{}_string_t", self.world_snake),
            Type::ErrorContext => "error_context".into(),
            Type::Id(id) => self.type_names[id].clone(),
        }
    }

    /// The name of the generated `*_free` function of a type, if it has one (the same
    /// rule as wit-bindgen-c's `define_dtor`: a helper with an empty body is omitted).
    pub(crate) fn dtor(&self, resolve: &Resolve, ty: &Type) -> Option<String> {
        if !has_dtor(resolve, ty) {
            return None;
        }
        Some(match ty {
            Type::String => format!("{}_string_free", self.world_snake),
            _ => {
                let name = self.c_type(ty);
                format!("{}_free", name.strip_suffix("_t").unwrap_or(&name))
            }
        })
    }

    pub(crate) fn func(&self, resolve: &Resolve, iface: InterfaceId, func: &Function) -> String {
        wit_bindgen_c::c_func_name(
            true,
            resolve,
            &self.world_name,
            Some(&self.keys[&iface]),
            func,
            &HashMap::new(),
        )
    }

    /// Names of an imported resource (`resource` is its defining, dealiased id).
    pub(crate) fn resource(&self, resolve: &Resolve, resource: TypeId) -> ResourceNames {
        let TypeOwner::Interface(owner) = resolve.types[resource].owner else {
            unreachable!("resources of a shim world belong to interfaces")
        };
        let ns = wit_bindgen_c::owner_namespace(
            Some((owner, &self.keys[&owner])),
            true,
            self.world_name.clone(),
            resolve,
            resource,
            &HashMap::new(),
        );
        let snake = resolve.types[resource]
            .name
            .as_deref()
            .unwrap_or_default()
            .to_snake_case();
        ResourceNames {
            own: format!("{ns}_own_{snake}_t"),
            drop_own: format!("{ns}_{snake}_drop_own"),
        }
    }
}

fn has_dtor(resolve: &Resolve, ty: &Type) -> bool {
    match ty {
        Type::String => true,
        Type::Id(id) => match &resolve.types[*id].kind {
            TypeDefKind::Type(t) => has_dtor(resolve, t),
            TypeDefKind::Record(r) => r.fields.iter().any(|f| has_dtor(resolve, &f.ty)),
            TypeDefKind::Tuple(t) => t.types.iter().any(|t| has_dtor(resolve, t)),
            TypeDefKind::List(_)
            | TypeDefKind::Map(..)
            | TypeDefKind::Variant(_)
            | TypeDefKind::Option(_)
            | TypeDefKind::Result(_) => true,
            TypeDefKind::Handle(Handle::Own(_) | Handle::Borrow(_))
            | TypeDefKind::Flags(_)
            | TypeDefKind::Enum(_)
            | TypeDefKind::Resource => false,
            _ => false,
        },
        _ => false,
    }
}
