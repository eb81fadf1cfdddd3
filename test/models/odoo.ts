import { http, HttpResponse } from 'msw';

/**
 * An msw model of Odoo's health endpoint (15.0+): GET /web/health answers 200
 * {"status": "pass"} while the HTTP worker runs. With ?db_server_status=1 (newer versions) it also
 * checks Postgres and answers 500 {"status": "fail", "db_server_status": false} when it is
 * unreachable; without it a database outage goes unseen. `answer` forces any reply (a proxy's
 * 502, a rewritten status) for the next requests.
 */
export interface OdooModel {
  baseUrl: string;
  databaseUp: boolean;
  answer?: { status: number; body: string; contentType?: string };
  requests: number;
  handlers: ReturnType<typeof http.get>[];
}

export function createOdooModel(options: { baseUrl?: string } = {}): OdooModel {
  const baseUrl = (options.baseUrl ?? 'https://erp.example.com').replace(/\/+$/, '');
  const model: OdooModel = {
    baseUrl,
    databaseUp: true,
    requests: 0,
    handlers: [],
  };
  model.handlers = [
    http.get(`${baseUrl}/web/health`, ({ request }) => {
      model.requests++;
      if (model.answer)
        return new HttpResponse(model.answer.body, {
          status: model.answer.status,
          headers: { 'content-type': model.answer.contentType ?? 'application/json' },
        });
      const checkDb = new URL(request.url).searchParams.get('db_server_status') === '1';
      if (!checkDb) return HttpResponse.json({ status: 'pass' });
      return model.databaseUp
        ? HttpResponse.json({ status: 'pass', db_server_status: true })
        : HttpResponse.json({ status: 'fail', db_server_status: false }, { status: 500 });
    }),
  ];
  return model;
}
