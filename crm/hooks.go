package crm

// A kind's Check (Kind) is built from the checks its record's methods
// make, of three shapes: the life cycle against the stored version, the
// rules over other records, and the rules over other records that apply
// only when a field changes. A programme's package builds its kinds'
// Check the same way.

// checkFunc is the type of Kind.Check.
type checkFunc = func(r Reader, rec, old Record, region string) *Error

// Checks runs fs in order; the first refusal wins.
func Checks(fs ...checkFunc) checkFunc {
	return func(r Reader, rec, old Record, region string) *Error {
		for _, f := range fs {
			if e := f(r, rec, old, region); e != nil {
				return e
			}
		}
		return nil
	}
}

// LifeCycle checks a change of a record of type T against the stored
// version (old, nil on create).
func LifeCycle[T Record](f func(rec T, old Record) *Error) checkFunc {
	return func(_ Reader, rec, old Record, _ string) *Error { return f(rec.(T), old) }
}

// WithState checks a record of type T against other records in the
// state, in the Command's region.
func WithState[T Record](f func(rec T, r Reader, region string) *Error) checkFunc {
	return func(r Reader, rec, _ Record, region string) *Error { return f(rec.(T), r, region) }
}

// WithStateChange checks a record of type T against other records, given
// the stored version (old, nil on create).
func WithStateChange[T Record](f func(rec T, r Reader, old Record) *Error) checkFunc {
	return func(r Reader, rec, old Record, _ string) *Error { return f(rec.(T), r, old) }
}
