"""Database functions the ORM lacks, written once for PostgreSQL and SQLite."""

from django.db.models import DateField, Func, IntegerField, Value


class AddMonths(Func):
    """``date + N calendar months``, clamped to the month's end as the NIK deadline rule wants
    (31 Jan + 3 months = 30 Apr), on PostgreSQL (interval arithmetic clamps) and SQLite (which does not)."""

    output_field = DateField()

    def __init__(self, expression, months: int, **extra):
        super().__init__(expression, Value(months, output_field=IntegerField()), **extra)

    def as_postgresql(self, compiler, connection, **extra):
        date_sql, date_params = compiler.compile(self.source_expressions[0])
        months = self.source_expressions[1].value
        return f"({date_sql} + make_interval(months => %s))::date", [*date_params, months]

    def as_sqlite(self, compiler, connection, **extra):
        date_sql, date_params = compiler.compile(self.source_expressions[0])
        months = self.source_expressions[1].value
        # The earlier of "the same day N months on" (which SQLite rolls into the next month) and the
        # last day of the target month.
        return (
            f"min(date({date_sql}, '+{months:d} months'), date({date_sql}, 'start of month', '+{months + 1:d} months', "
            f"'-1 day'))",
            [*date_params, *date_params],
        )


class AddDays(Func):
    output_field = DateField()

    def __init__(self, expression, days: int, **extra):
        super().__init__(expression, Value(days, output_field=IntegerField()), **extra)

    def as_postgresql(self, compiler, connection, **extra):
        date_sql, date_params = compiler.compile(self.source_expressions[0])
        return f"({date_sql} + %s)", [*date_params, self.source_expressions[1].value]

    def as_sqlite(self, compiler, connection, **extra):
        date_sql, date_params = compiler.compile(self.source_expressions[0])
        return f"date({date_sql}, '+{self.source_expressions[1].value:d} days')", date_params
