// One MongoDB user per Inovda service, each with readWrite on its own database only (the databases
// themselves appear on first write). Passwords come from the container's environment (.env), never from
// this file.
//
// The mongo image runs this once, as the root user, on the first start with an empty data volume
// (mounted into /docker-entrypoint-initdb.d). It is idempotent: after changing a password in .env, apply it
// to an existing volume with
//   docker compose up -d mongodb
//   docker compose exec mongodb sh -c 'mongosh --quiet -u "$MONGO_INITDB_ROOT_USERNAME" \
//     -p "$MONGO_INITDB_ROOT_PASSWORD" --authenticationDatabase admin /docker-entrypoint-initdb.d/10-inovda-users.js'

const inovdaServices = [
  { user: "inovda-submission", database: "inovda_submission", passwordVariable: "MONGODB_PASSWORD_INOVDA_SUBMISSION" },
  { user: "inovda-scoring", database: "inovda_scoring", passwordVariable: "MONGODB_PASSWORD_INOVDA_SCORING" },
  { user: "inovda-notification", database: "inovda_notification", passwordVariable: "MONGODB_PASSWORD_INOVDA_NOTIFICATION" },
  { user: "inovda-portal", database: "inovda_portal", passwordVariable: "MONGODB_PASSWORD_INOVDA_PORTAL" },
];

for (const service of inovdaServices) {
  const password = process.env[service.passwordVariable];
  if (!password) {
    throw new Error(`${service.passwordVariable} is not set: see deploy/compose/example.env`);
  }
  const database = db.getSiblingDB(service.database);
  const roles = [{ role: "readWrite", db: service.database }];
  if (database.getUser(service.user)) {
    database.updateUser(service.user, { pwd: password, roles: roles });
  } else {
    database.createUser({ user: service.user, pwd: password, roles: roles });
  }
  print(`inovda: MongoDB user ${service.user} ready (readWrite on ${service.database})`);
}
