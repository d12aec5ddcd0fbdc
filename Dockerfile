FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY requirements.txt .
RUN pip install --no-cache-dir -r requirements.txt
COPY . .
# collectstatic needs a key and DEBUG off to build the compressed manifest; neither is kept.
RUN SECRET_KEY=build DEBUG=False python manage.py compile_translations \
    && SECRET_KEY=build DEBUG=False python manage.py collectstatic --noinput
RUN useradd --create-home sejagad && chown -R sejagad /app
USER sejagad
EXPOSE 8000
CMD ["gunicorn", "sejagad.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--worker-class", "gthread", "--threads", "4", "--timeout", "60", "--access-logfile", "-"]
