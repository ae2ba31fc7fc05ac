package crm

// Test hooks of card.go.

// DecodeCard decodes a stored card (fuzzing and malformed input).
func DecodeCard(raw []byte) error {
	var c card
	return decodeCard(raw, &c)
}

// CardMemoHolds reports whether the card memo holds a list of owner's
// cards for the window from..to.
func CardMemoHolds(owner, from, to string) bool {
	cardMemo.Lock()
	defer cardMemo.Unlock()
	return len(cardMemo.m[memoKey{owner, from, to}]) > 0
}
