import CommandProtocol

/// The registry administrators keep: where needs come from and offers go to.
public enum Side: String, Sendable, CaseIterable { case east, west, other }

public struct Province: Sendable, Equatable {
    public var code: String
    public var name: String
    public var side: Side

    public init(code: String, name: String, side: Side) {
        self.code = code
        self.name = name
        self.side = side
    }
}

public struct County: Sendable, Equatable {
    /// 6-digit administrative division code; its first two digits name the province.
    public var code: String
    public var name: String
    public var province: String
    public var prefecture: String
    /// 国家乡村振兴重点帮扶县
    public var isKey: Bool

    public init(code: String, name: String, province: String, prefecture: String, isKey: Bool) {
        self.code = code
        self.name = name
        self.province = province
        self.prefecture = prefecture
        self.isKey = isKey
    }
}

public enum PairingLevel: String, Sendable, CaseIterable { case province, city, county }
public enum PairingPeriod: String, Sendable, CaseIterable { case current, earlier }

public struct Pairing: Sendable, Equatable {
    public var id: Int64
    public var eastProvince: String
    /// '' when the whole province is paired.
    public var eastCity: String
    public var westProvince: String
    /// Prefecture or county name; '' for the whole province.
    public var westArea: String
    public var westCounty: String?
    public var level: PairingLevel
    public var period: PairingPeriod

    public init(
        id: Int64 = 0, eastProvince: String, eastCity: String = "", westProvince: String, westArea: String = "",
        westCounty: String? = nil, level: PairingLevel, period: PairingPeriod
    ) {
        self.id = id
        self.eastProvince = eastProvince
        self.eastCity = eastCity
        self.westProvince = westProvince
        self.westArea = westArea
        self.westCounty = westCounty
        self.level = level
        self.period = period
    }
}

public enum OrganisationKind: String, Sendable, CaseIterable {
    case school, enterprise
    case talentDispatch = "talent_dispatch"
    /// 人力资源服务机构 and 劳务协作工作站: they submit labour offers on an enterprise's behalf.
    case hrAgency = "hr_agency"
    case labourStation = "labour_station"

    public var isIntermediary: Bool { self == .hrAgency || self == .labourStation }
}

public struct Organisation: Sendable, Equatable {
    public var id: Int64
    public var kind: OrganisationKind
    public var name: String
    public var province: String
    public var city: String
    /// The administrators' rating 0–50, which its offers score unless they state their own.
    public var quality: Int
    /// A recognised employment assistance base (就业帮扶基地): its offers score `employmentBase` points.
    public var employmentBase: Bool

    public init(
        id: Int64 = 0, kind: OrganisationKind, name: String, province: String, city: String = "", quality: Int = 0,
        employmentBase: Bool = false
    ) {
        self.id = id
        self.kind = kind
        self.name = name
        self.province = province
        self.city = city
        self.quality = quality
        self.employmentBase = employmentBase
    }
}

public enum OccupationLevel: String, Sendable, CaseIterable { case major, mid, small, occupation }

public struct Occupation: Sendable, Equatable {
    /// `2`, `2-05`, `2-05-01`, `2-05-01-01`: the code's depth is its level.
    public var code: String
    public var name: String
    public var level: OccupationLevel
    public var parent: String?

    public init(code: String, name: String, level: OccupationLevel, parent: String?) {
        self.code = code
        self.name = name
        self.level = level
        self.parent = parent
    }

    /// The level a code's shape implies, or nil when it is not a classification code.
    public static func level(of code: String) -> OccupationLevel? {
        // Bytes, not Characters: an import asks this of every code of every row.
        var parts = 0
        var digits = 0
        for byte in code.utf8 {
            if byte == UInt8(ascii: "-") {
                guard digits == (parts == 0 ? 1 : 2) else { return nil }
                parts += 1
                digits = 0
            } else {
                guard (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) else { return nil }
                digits += 1
            }
        }
        guard digits == (parts == 0 ? 1 : 2) else { return nil }
        switch parts {
        case 0: return .major
        case 1: return .mid
        case 2: return .small
        case 3: return .occupation
        default: return nil
        }
    }

    /// Why a need or offer may not name `code`, or nil: pairs must share at least a mid group
    /// (the candidate builder skips shallower codes), so a major group (`6`) never matches.
    public static func unmatchable(_ code: String) -> String? {
        guard level(of: code) == .major else { return nil }
        return "'\(code)' is a major group, which matches nothing; name its mid groups (\(code)-01 …) or finer codes"
    }

    /// The code one level up (`2-05-01` → `2-05`), nil for a major group.
    public static func parent(of code: String) -> String? {
        guard let dash = code.lastIndex(of: "-") else { return nil }
        return String(code[..<dash])
    }
}

/// Who did what, written by the store in the same transaction as the change it records.
public struct AuditEntry: Sendable {
    public var actor: Principal
    public var command: String
    public var target: String
    public var changes: [(String, String)]

    public init(actor: Principal, command: String, target: String, changes: [(String, String)]) {
        self.actor = actor
        self.command = command
        self.target = target
        self.changes = changes
    }

    /// The changed fields as a JSON object, for the `audit_log.changes` column.
    public var changesJSON: String {
        Record.Value.object(changes.map { ($0.0, .text($0.1)) }).json
    }
}
