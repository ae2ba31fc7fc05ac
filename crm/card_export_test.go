package crm

// Test hooks of card.go.

// DecodeCard decodes a stored card (fuzzing and malformed input).
func DecodeCard(raw []byte) error {
	var c card
	return decodeCard(raw, &c)
}
