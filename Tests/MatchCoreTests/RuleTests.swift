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
        status: .proposed, westAnswer: nil, westUnits: nil, eastAnswer: nil, eastUnits: nil, confirmedUnits: nil,
        reason: "")

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
        #expect(try both.confirmed(needOpen: 10, offerOpen: 8).confirmedUnits == 5)
        #expect(try both.confirmed(needOpen: 10, offerOpen: 3).confirmedUnits == 3)
        #expect(throws: ProtocolError(.conflict, "match 4: nothing left to confirm (its need has 0 units open, its offer 8); decline it instead")) {
            try both.confirmed(needOpen: 0, offerOpen: 8)
        }
    }

    @Test func aDeclineEndsTheProposalAndOnlyProposalsAreAnswered() throws {
        let declined = try Self.proposal.answered(by: .east, .decline(reason: .filled, note: "满员"))
        #expect(declined.status == .declined && declined.eastAnswer == "decline" && declined.reason == "filled" && declined.note == "满员")
        #expect(throws: ProtocolError.self) { try declined.answered(by: .west, .accept(units: nil)) }
        #expect(throws: ProtocolError.self) { try Self.proposal.answered(by: .west, .accept(units: 7)) }
    }

    static let placedNeed = Need(
        id: 1, county: "520204", kind: .labor, occupations: ["6-01"], quantity: 10, from: Day("2027-01-01")!, to: Day("2027-12-31")!,
        poverty: 4, monitored: 1)
    static let placedOffer = Offer(
        id: 2, organisation: 3, kind: .labor, occupations: ["6-01"], capacity: 8, from: Day("2027-02-01")!, to: Day("2028-06-30")!)
    static let today = Day("2027-09-01")!

    static func placing(_ match: MatchInfo, people: Int, poverty: Int = 0, monitored: Int = 0, on day: String = "2027-02-01",
                        alreadyPlaced: (Int, Int) = (0, 0)) throws -> (match: MatchInfo, placement: Placement) {
        try match.placing(
            PlacementRequest(people: people, poverty: poverty, monitored: monitored, on: Day(day)!), need: placedNeed, offer: placedOffer,
            alreadyPlaced: alreadyPlaced, today: today)
    }

    @Test func placementsAddUpAndStayWithinWhatWasConfirmed() throws {
        let both = try Self.proposal.answered(by: .west, .accept(units: nil)).answered(by: .east, .accept(units: nil))
        let confirmed = try both.confirmed(needOpen: 10, offerOpen: 8)
        #expect(throws: ProtocolError.self) { try Self.placing(Self.proposal, people: 1) }
        #expect(throws: ProtocolError.self) { try Self.placing(confirmed, people: 7) }
        let first = try Self.placing(confirmed, people: 2, poverty: 2)
        let second = try Self.placing(first.match, people: 3, poverty: 1, monitored: 1, on: "2027-03-01", alreadyPlaced: (2, 0))
        // Two placements add up; they never overwrite each other.
        #expect(second.match.people.placed == 5 && second.match.people.poverty == 3 && second.match.people.monitored == 1)
        #expect(second.match.people.lastPlacedOn == "2027-03-01")
        #expect(throws: ProtocolError.self) { try Self.placing(second.match, people: 2) }  // 6 confirmed, 5 placed
        #expect(throws: ProtocolError.self) { try Self.placing(confirmed, people: 2, poverty: 3) }  // more than the people
        #expect(throws: ProtocolError.self) { try Self.placing(confirmed, people: 5, poverty: 5) }  // the need has 4
        #expect(throws: ProtocolError.self) { try Self.placing(confirmed, people: 1, poverty: 1, alreadyPlaced: (4, 0)) }
        #expect(throws: ProtocolError.self) { try Self.placing(confirmed, people: 1, on: "2027-01-15") }  // before the offer's window
        #expect(throws: ProtocolError.self) { try Self.placing(confirmed, people: 1, on: "2027-10-01") }  // after today
        let (cancelled, released) = try second.match.cancelled(reason: "企业停产")
        #expect(cancelled.status == .cancelled && released == 1)
        #expect(throws: ProtocolError.self) { try cancelled.cancelled(reason: "again") }
    }

    @Test func followUpsFixStableCountsAndGiveBackEarlyLeavers() throws {
        let placement = Placement(
            id: 9, match: 5, need: 1, county: "520204", organisation: 3, people: 5, poverty: 2, monitored: 0,
            placedOn: Day("2027-01-31")!)
        #expect(placement.due(.threeMonths) == Day("2027-04-30")!)  // the month is shorter: its last day
        #expect(placement.nextMilestone == .threeMonths)
        let today = Day("2028-01-31")!
        let (one, check, givenBack) = try placement.checked(
            on: Day("2027-03-01")!, status: .left, people: 1, reason: .returnedHome, needEnds: Day("2027-12-31")!, today: today)
        #expect(one.left == 1 && one.reopened == 1 && givenBack == 1 && one.stable3 == nil && check.people == 1)
        #expect(throws: ProtocolError.self) {
            try one.checked(on: Day("2027-02-01")!, status: .working, people: nil, reason: nil, needEnds: Day("2027-12-31")!, today: today)
        }
        #expect(throws: ProtocolError.self) {
            try one.checked(on: Day("2027-05-01")!, status: .left, people: 1, reason: nil, needEnds: Day("2027-12-31")!, today: today)
        }
        let (three, _, _) = try one.checked(
            on: Day("2027-05-02")!, status: .working, people: nil, reason: nil, needEnds: Day("2027-12-31")!, today: today)
        #expect(three.stable3 == 4 && three.stable6 == nil && three.nextMilestone == .sixMonths)
        // Leaving after the need's window ended: counted as left, nothing given back.
        let (late, _, lateBack) = try three.checked(
            on: Day("2028-01-05")!, status: .left, people: 2, reason: .changedEmployer, needEnds: Day("2027-12-31")!, today: today)
        #expect(late.left == 3 && late.reopened == 1 && lateBack == 0 && late.stable6 == 2 && late.nextMilestone == nil)
        var totals = PlacedPeople()
        totals.placed = 5
        totals = totals.replacing(placement, with: late)
        #expect(totals.left == 3 && totals.reopened == 1 && totals.stable3 == 4 && totals.stable6 == 2 && totals.working == 2)
    }

    @Test func dayNumbersRoundTrip() {
        for text in ["2000-01-01", "2024-02-29", "2027-12-31", "2100-12-31"] {
            let day = Day(text)!
            #expect(Day(dayNumber: day.dayNumber) == day)
        }
        #expect(Day("2027-01-01")!.dayNumber - Day("2026-12-31")!.dayNumber == 1)
        #expect(Day("2024-08-31")!.adding(months: 6) == Day("2025-02-28")!)
        #expect(Day("2026-11-05")!.adding(months: 3) == Day("2027-02-05")!)
        #expect(Day("2026-03-30")!.adding(months: 11) == Day("2027-02-28")!)
        #expect(Day.today(secondsSince1970: 1_798_761_600 - 3_600) == Day("2027-01-01")!)  // 23:00 UTC is 07:00 in Beijing
    }
}
