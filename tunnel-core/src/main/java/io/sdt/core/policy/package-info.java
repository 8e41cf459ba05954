/**
 * Who may open what: target and bind rules, checked at every channel open and every bind. Depends on
 * the codec's address type only.
 */
package io.sdt.core.policy;
