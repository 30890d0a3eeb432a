import CommandProtocol

extension CommandContext {
    /// The authenticated principal (commands that require AUTH are only run with one).
    func principal(_ session: Session) throws(ProtocolError) -> Principal {
        guard let principal = session.principal ?? self.principal else { throw ProtocolError(.unauthenticated, "AUTH <token> first") }
        return principal
    }

    func audit(_ principal: Principal, target: String, changes: [(String, String)]) -> AuditEntry {
        AuditEntry(actor: principal, command: spec.name, target: target, changes: changes)
    }

    /// A province given by code (`52`) or name (`贵州省`), from the registry as the unit sees it.
    static func province(_ given: String, side: Side? = nil, field: String, in registry: any RegistryGateway) throws -> Province {
        let provinces = try registry.provinces()
        guard let province = provinces.first(where: { $0.code == given || $0.name == given }) else {
            throw ProtocolError(.badArg, "\(field): no province '\(given)'; PROVINCE LIST shows them")
        }
        if let side, province.side != side {
            throw ProtocolError(.badArg, "\(field): \(province.name) is not a \(side.rawValue)ern province")
        }
        return province
    }
}
