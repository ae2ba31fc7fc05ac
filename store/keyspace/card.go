package keyspace

// Customer cards: what the region-wide big-customer reads need of one
// customer (its classification fields and its kWh and billed amount by
// month), kept in one small value next to the indexes and changed in the
// batch of every customer or bill write, so that a classification list or
// a Pareto report reads one value per customer instead of the customer and
// every bill of it.
const (
	// CardPrefix begins every card: x/_card/<owner>\x00<customer id>.
	CardPrefix = IndexPrefix + "_card/"
)

// Card is the key of the card of customer id owned by owner.
func Card(owner, id string) string { return CardPrefix + owner + "\x00" + id }

// CardsOf is the prefix of the cards owned by region (subtree false) or by
// region and every region below it (subtree true: codes nest by prefix).
func CardsOf(region string, subtree bool) string {
	if subtree {
		return CardPrefix + region
	}
	return CardPrefix + region + "\x00"
}

// CardVersionPrefix begins every region's card version: a hash chained
// over every change of the region's cards, equal on two replicas that hold
// the same cards (x/_cardv/<owner>).
const CardVersionPrefix = IndexPrefix + "_cardv/"

// CardVersion is the key of owner's card version.
func CardVersion(owner string) string { return CardVersionPrefix + owner }

// CardVersionsOf is the prefix of the card versions of region and of every
// region below it (codes nest by prefix).
func CardVersionsOf(region string) string { return CardVersionPrefix + region }
