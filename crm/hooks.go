package crm

// A kind's Check (Kind) is built from the checks its record's methods
// make, of three shapes: the life cycle against the stored version, the
// rules over other records, and the rules over other records that apply
// only when a field changes.

// checkFunc is the type of Kind.Check.
type checkFunc = func(r Reader, rec, old Record, region string) *Error

// checks runs fs in order; the first refusal wins.
func checks(fs ...checkFunc) checkFunc {
	return func(r Reader, rec, old Record, region string) *Error {
		for _, f := range fs {
			if e := f(r, rec, old, region); e != nil {
				return e
			}
		}
		return nil
	}
}

// lifeCycle checks a change of a record of type T against the stored
// version (old, nil on create).
func lifeCycle[T Record](f func(rec T, old Record) *Error) checkFunc {
	return func(_ Reader, rec, old Record, _ string) *Error { return f(rec.(T), old) }
}

// withState checks a record of type T against other records in the
// state, in the Command's region.
func withState[T Record](f func(rec T, r Reader, region string) *Error) checkFunc {
	return func(r Reader, rec, _ Record, region string) *Error { return f(rec.(T), r, region) }
}

// withStateChange checks a record of type T against other records, given
// the stored version (old, nil on create).
func withStateChange[T Record](f func(rec T, r Reader, old Record) *Error) checkFunc {
	return func(r Reader, rec, old Record, _ string) *Error { return f(rec.(T), r, old) }
}
