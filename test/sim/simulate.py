#!/usr/bin/env python3
"""Seeded simulation of afregning: random operations, invariants after every step.

Every seed runs a fixed number of random operations against a fresh copy of
a template database (test/sim/fixture.sql): usage loads (normal, late for a
month already billed, a batch key loaded again, bad rows), cost entries
(expected, actual, corrections, bad ones), announce_price, close_year,
bill_direct, and pairs of these racing in two sessions at READ COMMITTED,
REPEATABLE READ or SERIALIZABLE.

The operations of a seed are a function of the seed alone, never of what
the database answered: they are drawn from a shadow of the year lifecycle
that assumes every announce and close it allows succeeds. What each
operation must do is decided when it runs, from the database's state just
before it. Each seed's years get a random carry_lag (1 or 2) and
carry_spread (1 or 2), so that a close can carry into a year being
announced at that moment.

After every step:
  - the invariants of public.sim_check() hold (R10 and the identities it
    rests on, locked years fixed in full, a closed year's direct charges
    equal to its rated per-call usage, see fixture.sql);
  - the usage of every batch is exactly the rows of the load that
    registered it (S11: nothing loaded twice, nothing lost);
  - a step that must be refused was refused, with an SQLSTATE other than
    XX000, and a step that must succeed succeeded;
  - a refused step changed nothing: the fingerprint of every table of
    schema afregning (public.sim_checksum()) is as before; so did a step that
    must be a no-op (announcing or closing a year again, billing a month of a
    closed year);
  - verify_ledger() reports nothing, when the extension has it.
In a race, a 40001 or 40P01 refusal is a refused step like any other: when
both sessions are refused nothing may change; when one is, what it alone
would have touched must be as before.

Prints TAP: one line per seed; on failure the seed, the step, what broke and
the last operations before it.

Environment: PGHOST, PGPORT, PGUSER of a running cluster, and
  SIM_SEEDS       number of seeds (default 20), or a comma list ("7,12")
  SIM_FIRST_SEED  first seed (default 1)
  SIM_STEPS       steps a seed (default 300)
  SIM_JOBS        seeds run at a time (default 2)
  SIM_BUDGET      seconds (default 150); seeds not started by then are
                  reported as not ok, so the run stays within 3 minutes
  SIM_EXCLUDE     operation or race kinds to skip (comma list of the names in
                  Generator.WEIGHTS and Generator.RACES, e.g.
                  nan_cost,dup_rows,bill_bill), to look past a known defect;
                  they are drawn all the same, so the other steps keep their
                  kinds and places (the years they pick may differ, as the
                  shadow lifecycle does not see a skipped step)
  SIM_VERBOSE=1   print every step and its outcome
  SIM_KEEP=1      keep the databases, to look at a failure
"""

import argparse
import datetime
import json
import multiprocessing
import os
import random
import sys
import threading
import time
import traceback

import psycopg2
import psycopg2.extensions

YEARS = list(range(2019, 2025))
MUNICIPALITIES = ['101', '147', '461', '751']
SYSTEMS = ['KOMM', 'KY']
SERVICES = ['CPR', 'CPR', 'SAG', 'YDL']        # CPR twice: half the rows are per call
ISOLATION = ['READ COMMITTED', 'REPEATABLE READ', 'SERIALIZABLE']
# (cost_type, service_code, system_code) of the entries drawn
COST_KINDS = [
	('support_admin', None, None), ('development_pool', None, None),
	('dissemination', None, None), ('operations', 'SAG', None),
	('operations', 'YDL', None), ('establishment', None, 'KY'),
	('data_consumption', 'CPR', None), ('data_consumption', 'SAG', None),
]
RACE_WAIT = 3.0        # seconds session 2 may run before session 1 commits anyway
RACE_JOIN = 60.0       # seconds session 2 may take after that


def note(msg):
	print('# ' + msg.replace('\n', '\n# '), flush=True)


# ---------------------------------------------------------------------------
# Operations
# ---------------------------------------------------------------------------

class Op:
	"""One operation: statements run in one transaction, and what they touch."""

	def __init__(self, kind, desc, stmts, **kw):
		self.kind = kind
		self.desc = desc
		self.stmts = stmts              # [(sql, params)]
		self.year = kw.get('year')
		self.month = kw.get('month')
		self.batch = kw.get('batch')
		self.registers = kw.get('registers', False)
		self.rows = kw.get('rows', [])
		self.bad_row = kw.get('bad_row')     # a row no load may accept
		self.entry = kw.get('entry')
		self.basis = kw.get('basis')
		self.corrects = kw.get('corrects')
		self.nan = kw.get('nan', False)
		self.iso = kw.get('iso', 'READ COMMITTED')   # when it runs on its own

	def years(self):
		ys = {r[0].year for r in self.rows}
		if self.year is not None:
			ys.add(self.year)
		return ys

	def footprint(self):
		"""A query over what this operation alone writes, and a key naming it."""
		if self.batch is not None:
			return ('batch:' + self.batch,
					"SELECT (SELECT count(*) || '/' || coalesce(sum(calls), 0) FROM afregning.usage WHERE batch_key = %s)"
					" || ' ' || (SELECT count(*) FROM afregning.usage_batch WHERE batch_key = %s)",
					(self.batch, self.batch))
		if self.entry is not None:
			return ('entry:' + self.entry,
					"SELECT count(*) FROM afregning.cost_entry WHERE entry_key = %s", (self.entry,))
		if self.kind == 'announce':
			return ('announce:%d' % self.year,
					"SELECT md5(coalesce(string_agg(x::text, ','), '')) FROM afregning.price_announcement x WHERE year = %s",
					(self.year,))
		if self.kind == 'close':
			return ('close:%d' % self.year,
					"SELECT md5(coalesce(string_agg(x::text, ','), '')) FROM afregning.year_close x WHERE year = %s",
					(self.year,))
		if self.kind == 'bill':
			return ('bill:' + self.month.isoformat(),
					"SELECT count(*) FROM afregning.direct_charge_line WHERE month = %s", (self.month,))
		return None

	def touches(self):
		"""Footprint keys this operation may change when it succeeds."""
		keys = set()
		fp = self.footprint()
		if fp:
			keys.add(fp[0])
		if self.kind == 'close':
			# close_year posts the per-call charges of its months
			keys |= {'bill:%04d-%02d-01' % (self.year, m) for m in range(1, 13)}
		return keys


class Generator:
	"""Draws a seed's operations from a shadow of the year lifecycle."""

	WEIGHTS = [
		('load', 14), ('load_late', 6), ('dup_register', 3), ('dup_rows', 3),
		('bad_load', 7), ('expected', 9), ('actual', 9), ('correction', 5),
		('nan_cost', 2), ('expected_locked', 3), ('announce', 7), ('close', 6),
		('bill', 10), ('lifecycle_any', 2), ('race', 16),
	]
	RACES = ['bill_bill', 'close_bill', 'announce_close', 'close_load', 'close_actual',
			 'announce_expected', 'load_load', 'load_dup_rows', 'announce_announce',
			 'close_close', 'bill_load']

	def __init__(self, seed, exclude):
		self.rng = random.Random(seed)
		self.seed = seed
		self.exclude = exclude
		self.status = {y: 'open' for y in YEARS}
		self.spread = {y: (2 if self.rng.random() < 0.4 else 1) for y in YEARS}
		self.lag = {y: (1 if self.rng.random() < 0.3 else 2) for y in YEARS}
		self.batches = []
		self.actual_keys = []
		self.billed = []
		self.n = 0

	def setup(self):
		return [("UPDATE afregning.billing_year SET carry_spread = %s, carry_lag = %s WHERE year = %s",
				 (self.spread[y], self.lag[y], y)) for y in YEARS]

	# -- helpers ------------------------------------------------------------
	def key(self, prefix):
		self.n += 1
		return '%s-%d-%d' % (prefix, self.seed, self.n)

	def years_with(self, *statuses):
		return [y for y in YEARS if self.status[y] in statuses]

	def pick_year(self, *statuses):
		ys = self.years_with(*statuses)
		return self.rng.choice(ys) if ys else self.rng.choice(YEARS)

	def month(self, year):
		return datetime.date(year, self.rng.randint(1, 12), 1)

	def row(self, year, month=None):
		return (month or self.month(year), self.rng.choice(MUNICIPALITIES), self.rng.choice(SYSTEMS),
				self.rng.choice(SERVICES), self.rng.randint(0, 5000))

	def money(self, lo, hi):
		return '%.2f' % (self.rng.randint(lo, hi) / 100)

	def can_announce(self, y):
		prior = y - self.lag[y]
		return self.status[y] == 'open' and (prior < YEARS[0] or self.status[prior] == 'closed')

	# -- operation builders -------------------------------------------------
	def load(self, kind='load', year=None, month=None, batch=None, registers=True, bad=None):
		year = year or self.pick_year('open', 'announced')
		if kind == 'load_late':
			late = [m for m in self.billed if self.status[m.year] != 'closed']
			if late:
				month = self.rng.choice(late)
				year = month.year
		rows = [self.row(year, month) for _ in range(self.rng.randint(1, 4))]
		batch = batch or self.key('b')
		bad_row = None
		if bad == 'closed_year':
			cy = self.pick_year('closed')
			rows.append(self.row(cy))
			if self.status[cy] != 'closed':
				bad = 'possibly_closed_year'
		elif bad:
			m, mu, sy, se, c = self.row(year)
			bad_row = {'unknown_municipality': (m, '999', sy, se, c),
					   'mid_month': (m.replace(day=15), mu, sy, se, c),
					   'negative_calls': (m, mu, sy, se, -self.rng.randint(1, 100))}[bad]
		stmts = []
		if registers:
			stmts.append(("INSERT INTO afregning.usage_batch (batch_key) VALUES (%s)", (batch,)))
		all_rows = rows + ([bad_row] if bad_row else [])
		self.rng.shuffle(all_rows)
		values = ', '.join(['(%s, %s, %s, %s, %s, %s)'] * len(all_rows))
		params = tuple(v for r in all_rows for v in (r + (batch,)))
		stmts.append(("INSERT INTO afregning.usage (period, municipality_code, system_code, service_code, calls, batch_key) VALUES " + values, params))
		if registers and not bad:
			self.batches.append(batch)
		desc = '%s batch %s%s: %s' % (kind, batch, '' if registers else ' (rows only)',
									  '; '.join('%s %s %s %s %d' % (r[0].isoformat()[:7], r[1], r[2], r[3], r[4])
												for r in all_rows))
		if bad:
			desc += ' [bad: %s]' % bad
		return Op(kind, desc, stmts, batch=batch, registers=registers, rows=rows, bad_row=bad_row)

	def cost(self, basis, year=None, corrects=None, nan=False, kind=None):
		if year is None:
			year = self.pick_year('open') if basis == 'expected' else self.pick_year('open', 'announced')
		ct, se, sy = self.rng.choice(COST_KINDS)
		if corrects:
			amount = self.money(-50000000, 50000000)
		else:
			amount = 'NaN' if nan else self.money(1000000, 200000000)
		entry = self.key('e')
		if basis == 'actual' and not nan:
			self.actual_keys.append(entry)
		sql = ("INSERT INTO afregning.cost_entry (entry_key, year, cost_type, basis, service_code, system_code, amount, corrects)"
			   " VALUES (%s, %s, %s, %s, %s, %s, %s::numeric, %s)")
		return Op(kind or basis, '%s entry %s: %d %s %s/%s %s%s' % (kind or basis, entry, year, ct, se or '-', sy or '-', amount,
																	 ' corrects ' + corrects if corrects else ''),
				  [(sql, (entry, year, ct, basis, se, sy, amount, corrects))],
				  year=year, entry=entry, basis=basis, corrects=corrects, nan=nan)

	def announce(self, year):
		if self.can_announce(year):
			self.status[year] = 'announced'
		return Op('announce', 'announce_price(%d)' % year,
				  [("SELECT afregning.announce_price(%s::integer)", (year,))], year=year,
				  iso=self.rng.choice(ISOLATION))

	def close(self, year):
		if self.status[year] == 'announced':
			self.status[year] = 'closed'
		return Op('close', 'close_year(%d)' % year, [('CLOSE', (year,))], year=year,
				  iso=self.rng.choice(ISOLATION))

	def bill(self, month=None):
		if month is None:
			y = self.pick_year('open', 'announced') if self.rng.random() < 0.8 else self.rng.choice(YEARS)
			month = self.month(y)
		if self.status[month.year] != 'closed':
			self.billed.append(month)
		return Op('bill', 'bill_direct(%s)' % month.isoformat(),
				  [("SELECT count(*) FROM afregning.bill_direct(%s::date)", (month,))], month=month, year=month.year,
				  iso=self.rng.choice(ISOLATION))

	# -- one step -------------------------------------------------------------
	def step(self):
		"""The next operation; an excluded kind is drawn all the same (so the
		rest of the seed stays as it is) and then skipped."""
		saved = (dict(self.status), list(self.batches), list(self.actual_keys), list(self.billed))
		op = self.draw()
		if op.kind in self.exclude or op.drawn in self.exclude:
			# the shadow forgets what a skipped operation would have done
			self.status, self.batches, self.actual_keys, self.billed = saved
			return Skip(op)
		return op

	def draw(self):
		kinds, weights = zip(*self.WEIGHTS)
		kind = self.rng.choices(kinds, weights)[0]
		r = self.rng
		op = self.race(r.choice(self.RACES)) if kind == 'race' else self.draw_single(kind)
		op.drawn = kind
		return op

	def draw_single(self, kind):
		r = self.rng
		if kind in ('load', 'load_late'):
			return self.load(kind)
		if kind == 'dup_register' or kind == 'dup_rows':
			if not self.batches:
				return self.load()
			return self.load(kind, batch=r.choice(self.batches), registers=(kind == 'dup_register'))
		if kind == 'bad_load':
			return self.load('bad_load', bad=r.choice(['unknown_municipality', 'mid_month', 'negative_calls', 'closed_year']))
		if kind in ('expected', 'actual'):
			return self.cost(kind)
		if kind == 'correction':
			if not self.actual_keys:
				return self.cost('actual')
			return self.cost('actual', corrects=r.choice(self.actual_keys), kind='correction')
		if kind == 'nan_cost':
			return self.cost(r.choice(['expected', 'actual']), nan=True, kind='nan_cost')
		if kind == 'expected_locked':
			return self.cost('expected', year=self.pick_year('announced', 'closed'), kind='expected_locked')
		if kind == 'announce':
			ys = [y for y in YEARS if self.can_announce(y)]
			return self.announce(r.choice(ys) if ys else r.choice(YEARS))
		if kind == 'close':
			return self.close(self.pick_year('announced'))
		if kind == 'bill':
			return self.bill()
		if kind == 'lifecycle_any':
			y = r.choice(YEARS)
			return self.announce(y) if r.random() < 0.5 else self.close(y)
		raise AssertionError(kind)

	def race(self, kind):
		r = self.rng
		iso = r.choice(ISOLATION)
		swap = r.random() < 0.5
		if kind == 'bill_bill':
			a = self.bill()
			b = self.bill(a.month)
		elif kind == 'close_bill':
			y = self.pick_year('announced')
			a = self.bill(self.month(y))
			b = self.close(y)
		elif kind == 'announce_close':
			# close X while announcing a year X's difference is carried into (when
			# there is one that can be announced): the first carry_spread open years
			# from X + carry_lag (S7), e.g. X + 1 when X's carry_lag is 1 and X + 1's
			# is 2, or X + 3 when X + 1 closed before X and X is spread over two years
			def targets(x):
				return [t for t in range(x + self.lag[x], x + 12)
						if self.status.get(t, 'open') == 'open'][:self.spread[x]]
			pairs = [(x, y) for x in self.years_with('announced') for y in targets(x)
					 if y in self.status and self.can_announce(y)]
			if not pairs:
				pairs = [(x, y) for x in self.years_with('announced') for y in YEARS
						 if x + 1 <= y <= x + 3 and self.status[y] == 'open']
			x, y = r.choice(pairs) if pairs else (self.pick_year('announced'), r.choice(YEARS))
			# whether y is announced cannot depend on the close it races with
			a = self.announce(y) if y - self.lag[y] != x else Op('announce', 'announce_price(%d)' % y,
				[("SELECT afregning.announce_price(%s::integer)", (y,))], year=y)
			b = self.close(x)
		elif kind == 'close_load':
			y = self.pick_year('announced')
			a = self.load(year=y)
			b = self.close(y)
		elif kind == 'close_actual':
			y = self.pick_year('announced')
			a = self.cost('actual', year=y)
			b = self.close(y)
		elif kind == 'announce_expected':
			y = self.pick_year('open')
			a = self.cost('expected', year=y)
			b = self.announce(y)
		elif kind == 'load_load':
			a = self.load()
			b = self.load(batch=a.batch)
		elif kind == 'load_dup_rows':
			a = self.load()
			b = self.load('dup_rows', batch=a.batch, registers=False)
		elif kind == 'announce_announce':
			ys = [y for y in YEARS if self.can_announce(y)]
			a = self.announce(r.choice(ys) if ys else r.choice(YEARS))
			b = Op('announce', a.desc, a.stmts, year=a.year)
		elif kind == 'close_close':
			a = self.close(self.pick_year('announced'))
			b = Op('close', a.desc, a.stmts, year=a.year)
		else:  # bill_load
			a = self.load()
			b = self.bill(a.rows[0][0])
		if swap:
			a, b = b, a
		return Race(kind, iso, a, b)


class Skip:
	"""An operation of a kind SIM_EXCLUDE names: drawn, not run."""

	def __init__(self, op):
		self.op = op
		self.kind = 'skip'
		self.desc = 'skipped: ' + op.desc


class Race:
	def __init__(self, kind, iso, a, b):
		self.kind = kind
		self.iso = iso
		self.a = a
		self.b = b
		self.desc = 'race %s at %s: session 1 %s | session 2 %s' % (kind, iso, a.desc, b.desc)


# ---------------------------------------------------------------------------
# Running
# ---------------------------------------------------------------------------

class StepFailed(Exception):
	pass


def connect(db):
	conn = psycopg2.connect(dbname=db, options='-c statement_timeout=30000 -c client_min_messages=warning -c jit=off')
	conn.autocommit = True
	return conn


class Session:
	"""One connection that runs operations as explicit transactions."""

	def __init__(self, db, force_close):
		self.conn = connect(db)
		self.force_close = force_close
		self.pid = self.conn.get_backend_pid()

	def sql(self, op):
		"""op's statements as one string, interpolated here (one round trip)."""
		parts, params = [], []
		for sql, p in op.stmts:
			if sql == 'CLOSE':
				sql = ('SELECT afregning.close_year(%s::integer, true)' if self.force_close
					   else 'SELECT afregning.close_year(%s::integer)')
			parts.append(sql)
			params.extend(p)
		return self.conn.cursor().mogrify('; '.join(parts), params).decode()

	def execute(self, text):
		"""Run text; None, or the error after rolling back what is left of it."""
		try:
			self.conn.cursor().execute(text)
			return None
		except psycopg2.Error as e:
			try:
				self.conn.cursor().execute('ROLLBACK')
			except psycopg2.Error:
				pass
			return e

	def transaction(self, op, iso, commit=True):
		return self.execute('BEGIN ISOLATION LEVEL %s; %s%s' % (iso, self.sql(op), '; COMMIT' if commit else ''))

	def close(self):
		self.conn.close()


def err_text(e):
	if e is None:
		return 'ok'
	msg = (e.pgerror or str(e)).strip().split('\n')[0]
	return '%s %s' % (e.pgcode, msg)


class Simulation:
	def __init__(self, db, seed, steps, exclude, verbose):
		self.db = db
		self.seed = seed
		self.steps = steps
		self.verbose = verbose
		self.gen = Generator(seed, exclude)
		self.history = []
		self.batch_rows = {}     # batch key -> [rows, calls] of the load that registered it
		self.step_no = 0
		self.force_close = self.has_verify = False
		self.last = None         # the fingerprint as text, from the last look

	def run(self):
		self.chk = connect(self.db)
		cur = self.chk.cursor()
		cur.execute("SELECT to_regprocedure('afregning.close_year(integer, boolean)') IS NOT NULL,"
					"       EXISTS (SELECT 1 FROM pg_proc p WHERE p.pronamespace = 'afregning'::regnamespace"
					"                 AND p.proname = 'verify_ledger' AND p.pronargs = p.pronargdefaults)")
		self.force_close, self.has_verify = cur.fetchone()
		self.s1 = Session(self.db, self.force_close)
		self.s2 = Session(self.db, self.force_close)
		try:
			e = self.s1.execute(self.s1.conn.cursor().mogrify(
				'; '.join(sql for sql, _ in self.gen.setup()),
				[v for _, p in self.gen.setup() for v in p]).decode())
			if e is not None:
				raise e
			op = self.gen.step()
			obs = self.observe([], op)
			self.verify(obs, None)
			for i in range(1, self.steps + 1):
				self.step_no = i
				self.history.append('%d: %s' % (i, op.desc))
				if isinstance(op, Race):
					post = self.race(op, obs)
				elif isinstance(op, Skip):
					post = {'months': [], 'unchanged': None, 'loaded': []}
				else:
					post = self.single(op, obs)
				nxt = self.gen.step() if i < self.steps else None
				obs = self.observe(post['months'], nxt)
				self.verify(obs, post)
				if self.verbose:
					note('seed %d step %s' % (self.seed, self.history[-1]))
				op = nxt
		finally:
			self.s1.close()
			self.s2.close()
			self.chk.close()

	def observe(self, months, op):
		"""Invariants after the last step and the state before the next, in one round trip."""
		batch = corrects = None
		if isinstance(op, Op):
			batch, corrects = op.batch, op.corrects
		cur = self.chk.cursor()
		cur.execute('SELECT public.sim_observe(%s::date[], %s, %s, %s)', (months, batch, corrects, self.last))
		obs = cur.fetchone()[0]
		self.last = obs['checksum_text']
		obs['status'] = {int(k): v for k, v in obs['status'].items()}
		obs['lag'] = {int(k): v for k, v in obs['lag'].items()}
		return obs

	def fail(self, what):
		raise StepFailed(what)

	# -- what a step must do ----------------------------------------------------
	def expectation(self, op, obs):
		"""'ok', 'refuse', 'same' (succeeds and changes nothing) or 'same_or_refuse'
		for a step on its own."""
		st = lambda y: obs['status'].get(y, 'open')
		if op.batch is not None:
			if op.bad_row or not op.registers or obs['batch_exists']:
				return 'refuse'
			if any(st(y) == 'closed' for y in op.years()):
				return 'refuse'
			return 'ok'
		if op.entry is not None:
			if op.nan or st(op.year) == 'closed':
				return 'refuse'
			if op.basis == 'expected' and st(op.year) != 'open':
				return 'refuse'
			if op.corrects and not obs['corrects_exists']:
				return 'refuse'
			return 'ok'
		if op.kind == 'announce':
			if st(op.year) != 'open':
				return 'same'
			prior = op.year - obs['lag'][op.year]
			if prior in obs['status'] and st(prior) != 'closed':
				return 'refuse'
			return 'ok'
		if op.kind == 'close':
			return {'open': 'refuse', 'announced': 'ok', 'closed': 'same'}[st(op.year)]
		if op.kind == 'bill':
			# a month of a closed year is never posted to (S9): nothing, or a refusal
			return 'same_or_refuse' if st(op.month.year) == 'closed' else 'ok'
		raise AssertionError(op.kind)

	def bad_sqlstate(self, e):
		return e.pgcode is None or e.pgcode.startswith('XX')

	@staticmethod
	def changed(before, after):
		return sorted(t for t in set(before) | set(after) if before.get(t) != after.get(t))

	# -- the checks after a step ------------------------------------------------
	def verify(self, obs, post):
		bad = list(obs['violations'])
		if obs['orphans']:
			bad.append('%d usage rows name no registered batch' % obs['orphans'])
		if post:
			for op in post['loaded']:
				if op.registers and op.batch not in self.batch_rows:
					self.batch_rows[op.batch] = [len(op.rows), sum(r[4] for r in op.rows)]
		have = obs['batches']
		for k in sorted(set(have) | set(self.batch_rows)):
			if have.get(k) != self.batch_rows.get(k):
				bad.append('S11: batch %s holds %s rows/calls, but its load had %s' % (k, have.get(k), self.batch_rows.get(k)))
		if obs['verify'] is not None:
			# clean: no rows, or rows of nulls / true (a scalar result comes as itself)
			broken = [r for r in obs['verify']
					  if not all(v is None or v is True for v in (r.values() if isinstance(r, dict) else [r]))]
			if broken:
				bad.append('verify_ledger() reports %s' % json.dumps(broken[:3]))
		if post and post['unchanged']:
			ch = self.changed(self.before, obs['checksum'])
			if ch:
				bad.append('%s, but changed %s' % (post['unchanged'], ', '.join(ch)))
		self.before = obs['checksum']
		if bad:
			self.fail('invariant broken:\n  ' + '\n  '.join(bad[:12]))

	# -- a step on its own ----------------------------------------------------
	def single(self, op, obs):
		want = self.expectation(op, obs)
		e = self.s1.transaction(op, op.iso)
		outcome = err_text(e)
		self.history[-1] += ' -> ' + outcome
		if e is not None and self.bad_sqlstate(e):
			self.fail('refused with an unspecific error: ' + outcome)
		if want == 'refuse' and e is None:
			self.fail('accepted, but must be refused')
		if want in ('ok', 'same') and e is not None:
			self.fail('refused, but must succeed: ' + outcome)
		return {'months': [op.month] if op.kind == 'bill' else [],
				'unchanged': 'refused' if e is not None else 'must change nothing' if want.startswith('same') else None,
				'loaded': [op] if e is None and op.batch is not None else []}

	# -- two sessions at once -------------------------------------------------
	def footprint(self, op):
		fp = op.footprint()
		cur = self.chk.cursor()
		cur.execute(fp[1], fp[2])
		return cur.fetchone()[0]

	def race(self, race, obs):
		a, b = race.a, race.b
		fp_a = self.footprint(a) if a.footprint() else None
		fp_b = self.footprint(b) if b.footprint() else None
		text_b = 'BEGIN ISOLATION LEVEL %s; %s; COMMIT' % (race.iso, self.s2.sql(b))
		ea = self.s1.transaction(a, race.iso, commit=False)
		res = {}

		def session2():
			try:
				res['e'] = self.s2.execute(text_b)
			except Exception as x:       # a broken connection, say
				res['x'] = x

		t = threading.Thread(target=session2, daemon=True)
		t.start()
		waited = False
		if ea is None:
			# hold session 1 open until session 2 waits for a lock or is done
			cur = self.chk.cursor()
			deadline = time.monotonic() + RACE_WAIT
			while t.is_alive() and time.monotonic() < deadline:
				cur.execute("SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s", (self.s2.pid,))
				row = cur.fetchone()
				if row and row[0]:
					waited = True
					break
				time.sleep(0.002)
			ea = self.s1.execute('COMMIT')
		t.join(RACE_JOIN)
		if t.is_alive():
			self.s2.conn.cancel()
			t.join(10)
			self.fail('session 2 did not finish')
		if 'x' in res:
			raise res['x']
		eb = res['e']
		outcome = 'session 1 %s, session 2 %s%s' % (err_text(ea), err_text(eb), ' (waited)' if waited else '')
		self.history[-1] += ' -> ' + outcome
		for e in (ea, eb):
			if e is not None and self.bad_sqlstate(e):
				self.fail('refused with an unspecific error: ' + outcome)
		# one session refused: what it alone writes is as before
		for e, op, other, fp in ((ea, a, b, fp_a), (eb, b, a, fp_b)):
			if e is not None and fp is not None and op.footprint()[0] not in other.touches():
				now = self.footprint(op)
				if now != fp:
					self.fail('%s was refused, but what it writes changed: %s -> %s' % (op.desc, fp, now))
		months = []
		for op, other in ((a, b), (b, a)):
			# a month is up to date after billing it, unless usage for it was loaded at the same time
			if op.kind == 'bill' and not any(r[0] == op.month for r in other.rows):
				months.append(op.month)
		return {'months': months,
				'unchanged': 'both sessions refused' if ea is not None and eb is not None else None,
				'loaded': [op for e, op in ((ea, a), (eb, b)) if e is None and op.batch is not None]}


# ---------------------------------------------------------------------------
# Main
# ---------------------------------------------------------------------------

def admin(sql):
	conn = psycopg2.connect(dbname='postgres')
	conn.autocommit = True
	try:
		conn.cursor().execute(sql)
	finally:
		conn.close()


def run_seed(job):
	"""Run one seed in a database of its own; the TAP line and the notes to print."""
	seed, template, prefix, steps, exclude, verbose, keep, deadline = job
	if time.time() > deadline:
		return ('not ok', 'seed %d: not run, the time budget is spent' % seed, [], None)
	db = '%s_s%d' % (prefix, seed)
	try:
		admin('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % db)
		admin('CREATE DATABASE "%s" TEMPLATE "%s"' % (db, template))
	except psycopg2.Error as e:
		return ('not ok', 'seed %d: could not create its database' % seed, [str(e)], None)
	sim = Simulation(db, seed, steps, exclude, verbose)
	ts = time.monotonic()
	notes = []
	try:
		sim.run()
		result = ('ok', 'seed %d: %d steps, invariants hold (%.1f s)' % (seed, steps, time.monotonic() - ts))
	except StepFailed as e:
		result = ('not ok', 'seed %d: step %d failed' % (seed, sim.step_no))
		notes = ['seed %d, step %s' % (seed, sim.history[-1] if sim.history else '0 (setup)'),
				 str(e),
				 'last operations (rerun: SIM_FIRST_SEED=%d SIM_SEEDS=1 SIM_STEPS=%d):\n  %s' % (
					 seed, sim.step_no, '\n  '.join(sim.history[-6:]))]
	except Exception:
		result = ('not ok', 'seed %d: the simulation itself failed at step %s' % (seed, sim.step_no))
		notes = [traceback.format_exc(), 'last operations:\n  ' + '\n  '.join(sim.history[-6:])]
	finally:
		if not keep:
			admin('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % db)
	return result + (notes, (sim.force_close, sim.has_verify))


def main():
	ap = argparse.ArgumentParser(description=__doc__.split('\n')[0])
	ap.add_argument('--db', default=os.environ.get('AF_SCENARIO_DB', 'scenario_simulation'))
	args = ap.parse_args()
	seeds_env = os.environ.get('SIM_SEEDS', '20')
	first = int(os.environ.get('SIM_FIRST_SEED', '1'))
	seeds = ([int(s) for s in seeds_env.split(',') if s] if ',' in seeds_env
			 else list(range(first, first + int(seeds_env))))
	steps = int(os.environ.get('SIM_STEPS', '300'))
	budget = float(os.environ.get('SIM_BUDGET', '150'))
	jobs = max(1, int(os.environ.get('SIM_JOBS', '2')))
	exclude = {k for k in os.environ.get('SIM_EXCLUDE', '').split(',') if k}
	verbose = os.environ.get('SIM_VERBOSE') == '1'
	keep = os.environ.get('SIM_KEEP') == '1'
	template = args.db + '_template'
	t0 = time.monotonic()
	deadline = time.time() + budget

	print('1..%d' % len(seeds), flush=True)
	admin('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % template)
	admin('CREATE DATABASE "%s"' % template)
	conn = psycopg2.connect(dbname=template)
	conn.autocommit = True
	with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'fixture.sql')) as f:
		conn.cursor().execute(f.read())
	conn.close()
	note('template ready in %.1f s; %d seeds x %d steps, %d at a time%s' % (
		time.monotonic() - t0, len(seeds), steps, jobs,
		'; not drawn: ' + ', '.join(sorted(exclude)) if exclude else ''))

	failed = 0
	shown = False
	work = [(s, template, args.db, steps, exclude, verbose, keep, deadline) for s in seeds]
	with multiprocessing.get_context('fork').Pool(jobs) as pool:
		for n, (status, text, notes, found) in enumerate(pool.imap(run_seed, work), 1):
			if found and not shown:
				shown = True
				note('close_year(integer, boolean) %s; verify_ledger() %s' % (
					'found: closes pass force => true' if found[0] else 'absent: closes call close_year(integer)',
					'found: checked after every step' if found[1] else 'absent: not checked'))
			print('%s %d - %s' % (status, n, text), flush=True)
			for m in notes:
				note(m)
			failed += status != 'ok'
	if not keep:
		admin('DROP DATABASE IF EXISTS "%s" WITH (FORCE)' % template)
	note('%d seeds in %.1f s, %d failed' % (len(seeds), time.monotonic() - t0, failed))
	return 1 if failed else 0


if __name__ == '__main__':
	sys.exit(main())
