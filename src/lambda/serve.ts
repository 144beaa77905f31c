/** Serves the Lambda handler on localhost: each HTTP request becomes a Function URL (v2) event. */
import { createServer, type Server } from 'node:http';

export async function serve(port = Number(process.env.PORT ?? 3000), host = '127.0.0.1'): Promise<Server> {
  const { handler } = await import('./handler.js');
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', async () => {
      const body = Buffer.concat(chunks);
      const event = {
        version: '2.0',
        rawPath: req.url ?? '/',
        headers: Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(',') : (v ?? '')])),
        requestContext: { http: { method: req.method ?? 'GET', path: req.url ?? '/' } },
        body: body.toString('base64'),
        isBase64Encoded: true,
      };
      const response = (await handler(event)) as { statusCode: number; headers: Record<string, string>; body: string };
      res.writeHead(response.statusCode, response.headers);
      res.end(response.body);
    });
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  return server;
}
