// Package crmtest holds the helpers the tests of crm and of the
// programmes built on it (process, bigcustomer) share: a fixed clock and
// actor, id generation, command and body builders, Apply that fails the
// test, error and snapshot checks. Only tests import it.
package crmtest
