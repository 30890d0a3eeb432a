import CommandProtocol
import MatchingEngine

// The rules of needs, offers and matches, as plain functions of the records: the store only
// saves what they decide.

extension NeedStatus {
    /// What an open need's status is once `matched` of its `quantity` units are confirmed.
    /// A cancelled need stays cancelled.
    public static func after(matched: Int, quantity: Int, was current: NeedStatus) -> NeedStatus {
        if current == .cancelled { return .cancelled }
        if matched == 0 { return .open }
        return matched < quantity ? .partlyMatched : .filled
    }

    public var isOpen: Bool { self == .open || self == .partlyMatched }
}

extension OfferStatus {
    /// What an offer's status is once `matched` of its `capacity` units are confirmed. A
    /// withdrawn offer stays withdrawn.
    public static func after(matched: Int, capacity: Int, was current: OfferStatus) -> OfferStatus {
        if current == .withdrawn { return .withdrawn }
        if matched == 0 { return .open }
        return matched < capacity ? .partlyMatched : .filled
    }

    public var isOpen: Bool { self == .open || self == .partlyMatched }
}

extension SubmissionChanges {
    /// Whether the change alters what confirmed matches were made for.
    public var reshapes: Bool { occupations != nil || from != nil || to != nil }

    /// Confirmed units pin what they were confirmed for: the occupations and the window stay,
    /// and the quantity may not drop below them.
    func checkPin(matched: Int, unit: String, what: String) throws(ProtocolError) {
        if let quantity, quantity < matched {
            throw ProtocolError(.conflict, "\(what): \(unit) \(quantity) is below its \(matched) confirmed units")
        }
        if matched > 0 && reshapes {
            throw ProtocolError(.conflict, "\(what) has \(matched) confirmed units; its occupations and window can no longer change")
        }
    }
}

extension Need {
    /// The need with `changes` applied, as an update may make it.
    public func updated(by changes: SubmissionChanges) throws(ProtocolError) -> Need {
        guard status != .cancelled else { throw ProtocolError(.conflict, "need \(id) is cancelled and can no longer change") }
        try changes.checkPin(matched: matched, unit: "qty", what: "need \(id)")
        var need = self
        need.occupations = changes.occupations ?? occupations
        need.quantity = changes.quantity ?? quantity
        need.from = changes.from ?? from
        need.to = changes.to ?? to
        guard need.from <= need.to else { throw ProtocolError(.badArg, "from: \(need.from) is after to \(need.to)") }
        need.priority = changes.priority ?? priority
        need.poverty = changes.poverty ?? poverty
        need.monitored = changes.monitored ?? monitored
        for (name, count) in [("poverty", need.poverty), ("monitored", need.monitored)] where count > need.quantity {
            throw ProtocolError(.badArg, "\(name): \(count) is more than the need's \(need.quantity) people")
        }
        need.conditions = changes.wantedConditions ?? conditions
        need.note = changes.note ?? note
        need.privateNote = changes.privateNote ?? privateNote
        need.status = NeedStatus.after(matched: need.matched, quantity: need.quantity, was: status)
        return need
    }

    /// The need cancelled, as long as no confirmed units depend on it.
    public func cancelled() throws(ProtocolError) -> Need {
        guard status != .cancelled else { throw ProtocolError(.conflict, "need \(id) is already cancelled") }
        guard matched == 0 else {
            throw ProtocolError(.conflict, "need \(id) has \(matched) confirmed units; cancel those matches first (MATCH CANCEL)")
        }
        var need = self
        need.status = .cancelled
        return need
    }

    /// The need with `units` more confirmed (fewer, when negative).
    public func confirming(_ units: Int) -> Need {
        var need = self
        need.matched += units
        need.status = NeedStatus.after(matched: need.matched, quantity: quantity, was: status)
        return need
    }
}

extension Offer {
    /// The offer as `organisation` may make it: a labour intermediary (人力资源服务机构, 劳务协作
    /// 工作站) offers labour for a named enterprise, the employer; anyone else offers its own
    /// posts. A school partnership is 校校合作 from a school and 企校合作 from an enterprise,
    /// unless it says otherwise.
    public func madeBy(_ organisation: Organisation, employer: Organisation?) throws(ProtocolError) -> Offer {
        var offer = self
        if organisation.kind.isIntermediary {
            guard kind == .labor else {
                throw ProtocolError(.badArg, "kind: \(organisation.kind.rawValue) organisations offer labour only, on an employer's behalf")
            }
            guard let employer else {
                throw ProtocolError(.badArg, "employer= is required: the enterprise org \(organisation.id) offers these posts for")
            }
            guard employer.kind == .enterprise else {
                throw ProtocolError(.badArg, "employer: organisation \(employer.id) is a \(employer.kind.rawValue), not an enterprise")
            }
        } else if employer != nil {
            throw ProtocolError(
                .badArg, "employer= is for labour intermediaries (hr_agency, labour_station); organisation \(organisation.id) is a \(organisation.kind.rawValue)")
        }
        if kind == .schoolPartnership && offer.details.partnership == nil {
            guard let partnership = Partnership(offeredBy: organisation.kind) else {
                throw ProtocolError(.badArg, "partnership= is required: a \(organisation.kind.rawValue) is neither a school nor an enterprise")
            }
            offer.details.partnership = partnership
        }
        return offer
    }

    public func updated(by changes: SubmissionChanges) throws(ProtocolError) -> Offer {
        guard status != .withdrawn else { throw ProtocolError(.conflict, "offer \(id) is withdrawn and can no longer change") }
        try changes.checkPin(matched: matched, unit: "capacity", what: "offer \(id)")
        var offer = self
        offer.occupations = changes.occupations ?? occupations
        offer.capacity = changes.quantity ?? capacity
        offer.from = changes.from ?? from
        offer.to = changes.to ?? to
        guard offer.from <= offer.to else { throw ProtocolError(.badArg, "from: \(offer.from) is after to \(offer.to)") }
        offer.place = changes.place ?? place
        offer.conditions = changes.conditions ?? conditions
        offer.quality = changes.quality ?? quality
        offer.note = changes.note ?? note
        offer.privateNote = changes.privateNote ?? privateNote
        offer.status = OfferStatus.after(matched: offer.matched, capacity: offer.capacity, was: status)
        return offer
    }

    public func withdrawn() throws(ProtocolError) -> Offer {
        guard status != .withdrawn else { throw ProtocolError(.conflict, "offer \(id) is already withdrawn") }
        guard matched == 0 else {
            throw ProtocolError(.conflict, "offer \(id) has \(matched) confirmed units; cancel those matches first (MATCH CANCEL)")
        }
        var offer = self
        offer.status = .withdrawn
        return offer
    }

    public func confirming(_ units: Int) -> Offer {
        var offer = self
        offer.matched += units
        offer.status = OfferStatus.after(matched: offer.matched, capacity: capacity, was: status)
        return offer
    }
}

/// Why a side declined a proposal: a fixed set of codes, so declines can be totalled by reason
/// (FILL … declines, REPORT); the free text goes with it as a note.
public enum DeclineReason: String, Sendable, CaseIterable {
    case wage, distance, conditions, timing, filled, other

    /// The wording of a Chinese report.
    public var label: String {
        switch self {
        case .wage: "工资待遇"
        case .distance: "路途距离"
        case .conditions: "条件不符"
        case .timing: "时间不合"
        case .filled: "岗位已满"
        case .other: "其他"
        }
    }

    /// A report's or FILL's field for this reason's count.
    public var field: String { "declined-\(rawValue)" }
}

/// What one side's answer does to a proposal.
public enum Answer: Sendable, Equatable {
    case accept(units: Int64?)
    case decline(reason: DeclineReason, note: String)
}

extension MatchInfo {
    /// The proposal with `side`'s answer recorded. A decline ends it; an accept waits for the
    /// other side unless that side has accepted already (then `needsConfirmation` is true).
    public func answered(by side: MatchSide, _ answer: Answer) throws(ProtocolError) -> MatchInfo {
        guard status == .proposed else {
            throw ProtocolError(.conflict, "match \(id) is \(status.rawValue); only proposals are answered")
        }
        var match = self
        switch answer {
        case .decline(let reason, let note):
            switch side {
            case .west: match.westAnswer = "decline"
            case .east: match.eastAnswer = "decline"
            }
            match.status = .declined
            match.reason = reason.rawValue
            match.note = note
        case .accept(let units):
            if let units, units > self.units {
                throw ProtocolError(.badArg, "units: \(units) is more than the \(self.units) proposed")
            }
            switch side {
            case .west:
                match.westAnswer = "accept"
                match.westUnits = units ?? self.units
            case .east:
                match.eastAnswer = "accept"
                match.eastUnits = units ?? self.units
            }
        }
        return match
    }

    /// Both sides said yes.
    public var needsConfirmation: Bool { status == .proposed && westAnswer == "accept" && eastAnswer == "accept" }

    /// The confirmation policy: the smaller of the two sides' unit counts, but never more than
    /// the need and the offer still have open (their rows locked, so no race can overfill). With
    /// nothing left to confirm the accept is refused, so no side is told OK for a match that holds
    /// nothing; the proposal stays for a decline, a later run or its expiry.
    public func confirmed(needOpen: Int, offerOpen: Int) throws(ProtocolError) -> MatchInfo {
        let wanted = min(westUnits ?? units, eastUnits ?? units)
        let units = min(wanted, Int64(needOpen), Int64(offerOpen))
        guard units > 0 else {
            throw ProtocolError(
                .conflict,
                "match \(id): nothing left to confirm (its need has \(max(needOpen, 0)) units open, its offer \(max(offerOpen, 0))); decline it instead")
        }
        var match = self
        match.status = .confirmed
        match.confirmedUnits = units
        return match
    }

    /// The match cancelled, and the units it gives back to its need and offer: what was
    /// confirmed and not yet placed (the people placed keep theirs, as `match_holding` counts it).
    public func cancelled(reason: String) throws(ProtocolError) -> (match: MatchInfo, released: Int64) {
        guard status == .confirmed, let confirmed = confirmedUnits else {
            throw ProtocolError(.conflict, "match \(id) is \(status.rawValue); only confirmed matches are cancelled")
        }
        var match = self
        match.status = .cancelled
        match.reason = reason
        return (match, confirmed - people.placed)
    }
}
