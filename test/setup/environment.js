// Jest's node environment, telling test code when the running test or hook times out, so a wait can fail
// first with what it waited for and the last value it saw instead of a bare jest timeout.
const { TestEnvironment } = require('jest-environment-node');

class DeadlineEnvironment extends TestEnvironment {
  handleTestEvent(event, state) {
    if (event.name === 'test_fn_start' || event.name === 'hook_start') {
      const timeout = (event.name === 'test_fn_start' ? event.test : event.hook).timeout || state.testTimeout;
      this.global.__leadrelayDeadline = Date.now() + timeout;
    }
  }
}

module.exports = DeadlineEnvironment;
