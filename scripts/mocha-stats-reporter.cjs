// mocha's spec output, plus the run's counts as JSON in $SPEEDRUN_STATS_FILE for scripts/test.sh's summary.
'use strict';
const fs = require('node:fs');
const Mocha = require('mocha');

class StatsReporter extends Mocha.reporters.Spec {
  constructor(runner, options) {
    super(runner, options);
    runner.once(Mocha.Runner.constants.EVENT_RUN_END, () => {
      const file = process.env.SPEEDRUN_STATS_FILE;
      const { passes, failures, pending } = runner.stats;
      if (file) fs.writeFileSync(file, JSON.stringify({ passes, failures, pending }));
    });
  }
}
module.exports = StatsReporter;
