import CommandProtocol
import MatchCore
import MatchingEngine
import Testing

@Suite("The rules of needs, offers and matches, without a database")
struct RuleTests {
    static let need = Need(
        id: 1, county: "520204", kind: .labor, occupations: ["6-01"], quantity: 10, from: Day("2027-01-01")!,
        to: Day("2027-06-30")!)
    static let offer = Offer(
        id: 2, organisation: 3, kind: .labor, occupations: ["6-01"], capacity: 8, from: Day("2027-01-01")!, to: Day("2027-12-31")!)
    static let proposal = MatchInfo(
        id: 4, run: 1, need: 1, offer: 2, county: "520204", organisation: 3, units: 6, score: 500, explanation: "{}",
        status: .proposed, westAnswer: nil, westUnits: nil, eastAnswer: nil, eastUnits: nil, confirmedUnits: nil, placedUnits: 0,
        placedOn: nil, reason: "")

    @Test(arguments: [
        (0, 10, NeedStatus.open, NeedStatus.open), (3, 10, .open, .partlyMatched), (10, 10, .partlyMatched, .filled),
        (0, 10, .filled, .open), (4, 10, .cancelled, .cancelled),
    ])
    func needStatusFollowsConfirmedUnits(matched: Int, quantity: Int, was: NeedStatus, becomes: NeedStatus) {
        #expect(NeedStatus.after(matched: matched, quantity: quantity, was: was) == becomes)
    }

    @Test(arguments: [
        (0, 8, OfferStatus.partlyMatched, OfferStatus.open), (7, 8, .open, .partlyMatched), (8, 8, .open, .filled),
        (2, 8, .withdrawn, .withdrawn),
    ])
    func offerStatusFollowsConfirmedUnits(matched: Int, capacity: Int, was: OfferStatus, becomes: OfferStatus) {
        #expect(OfferStatus.after(matched: matched, capacity: capacity, was: was) == becomes)
    }

    @Test func confirmedUnitsPinTheirOccupationsWindowAndQuantity() throws {
        var confirmed = Self.need.confirming(4)
        #expect(confirmed.status == .partlyMatched)
        var changes = SubmissionChanges()
        changes.quantity = 3
        #expect(throws: ProtocolError(.conflict, "need 1: qty 3 is below its 4 confirmed units")) { try confirmed.updated(by: changes) }
        changes = SubmissionChanges()
        changes.occupations = ["6-02"]
        #expect(throws: ProtocolError.self) { try confirmed.updated(by: changes) }
        changes = SubmissionChanges()
        changes.quantity = 4
        changes.note = "已满"
        confirmed = try confirmed.updated(by: changes)
        #expect(confirmed.status == .filled && confirmed.note == "已满")
        // Without confirmed units everything may change.
        changes = SubmissionChanges()
        changes.occupations = ["6-02"]
        changes.from = Day("2027-02-01")
        #expect(try Self.need.updated(by: changes).occupations == ["6-02"])
    }

    @Test func anUpdateCannotTurnTheWindowAround() {
        var changes = SubmissionChanges()
        changes.from = Day("2027-07-01")
        #expect(throws: ProtocolError.self) { try Self.need.updated(by: changes) }
    }

    @Test func cancelledAndWithdrawnAreFinalAndRefusedWhileUnitsDependOnThem() throws {
        #expect(throws: ProtocolError.self) { try Self.need.confirming(1).cancelled() }
        let cancelled = try Self.need.cancelled()
        #expect(cancelled.status == .cancelled)
        #expect(throws: ProtocolError.self) { try cancelled.cancelled() }
        #expect(throws: ProtocolError.self) { try cancelled.updated(by: SubmissionChanges()) }
        #expect(throws: ProtocolError.self) { try Self.offer.confirming(2).withdrawn() }
        #expect(try Self.offer.withdrawn().status == .withdrawn)
    }

    @Test func bothSidesAcceptingConfirmsTheSmallerCountWithinWhatIsOpen() throws {
        let west = try Self.proposal.answered(by: .west, .accept(units: 5))
        #expect(!west.needsConfirmation && west.status == .proposed)
        let both = try west.answered(by: .east, .accept(units: nil))
        #expect(both.needsConfirmation)
        #expect(both.confirmed(needOpen: 10, offerOpen: 8).confirmedUnits == 5)
        #expect(both.confirmed(needOpen: 10, offerOpen: 3).confirmedUnits == 3)
        let nothingLeft = both.confirmed(needOpen: 0, offerOpen: 8)
        #expect(nothingLeft.status == .expired && nothingLeft.confirmedUnits == nil)
    }

    @Test func aDeclineEndsTheProposalAndOnlyProposalsAreAnswered() throws {
        let declined = try Self.proposal.answered(by: .east, .decline(reason: "满员"))
        #expect(declined.status == .declined && declined.eastAnswer == "decline" && declined.reason == "满员")
        #expect(throws: ProtocolError.self) { try declined.answered(by: .west, .accept(units: nil)) }
        #expect(throws: ProtocolError.self) { try Self.proposal.answered(by: .west, .accept(units: 7)) }
    }

    @Test func placementsAndCancellationsOfConfirmedMatches() throws {
        let both = try Self.proposal.answered(by: .west, .accept(units: nil)).answered(by: .east, .accept(units: nil))
        let confirmed = both.confirmed(needOpen: 10, offerOpen: 8)
        #expect(throws: ProtocolError.self) { try Self.proposal.placing(1, on: Day("2027-02-01")!) }
        #expect(throws: ProtocolError.self) { try confirmed.placing(7, on: Day("2027-02-01")!) }
        let placed = try confirmed.placing(2, on: Day("2027-02-01")!)
        #expect(placed.placedUnits == 2 && placed.placedOn == "2027-02-01")
        let (cancelled, released) = try placed.cancelled(reason: "企业停产")
        #expect(cancelled.status == .cancelled && released == 4)
        #expect(throws: ProtocolError.self) { try cancelled.cancelled(reason: "again") }
    }
}
